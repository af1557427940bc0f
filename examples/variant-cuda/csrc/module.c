#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "scale.h"

#ifdef CUDADEMO_CUDA
#define DEVICE "cuda"
#else
#define DEVICE "cpu"
#endif

static PyObject *device(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(DEVICE);
}

/* scale(bytearray of float32, factor): in place. */
static PyObject *scale(PyObject *self, PyObject *args)
{
    Py_buffer buffer;
    float factor;
    if (!PyArg_ParseTuple(args, "w*f", &buffer, &factor)) {
        return NULL;
    }
    int status = cudademo_scale(buffer.buf, (int)(buffer.len / sizeof(float)), factor);
    PyBuffer_Release(&buffer);
    if (status != 0) {
        PyErr_SetString(PyExc_RuntimeError, "the CUDA kernel failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"device", device, METH_NOARGS, "Where scale() runs: 'cuda' or 'cpu'."},
    {"scale", scale, METH_VARARGS, "Multiply a buffer of float32 by a factor, in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
