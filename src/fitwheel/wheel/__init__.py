"""Wheel archives: read safely, turn into variant wheels and back, describe releases."""
