/* scale(): multiply n floats by a factor, on the GPU (scale.cu) or the CPU (scale_cpu.c). */
#ifdef __cplusplus
extern "C" {
#endif
int cudademo_scale(float *values, int n, float factor);
#ifdef __cplusplus
}
#endif
