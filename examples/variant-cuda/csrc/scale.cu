#include "scale.h"

__global__ static void scale_kernel(float *values, int n, float factor)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        values[i] *= factor;
    }
}

extern "C" int cudademo_scale(float *values, int n, float factor)
{
    float *device = nullptr;
    size_t size = (size_t)n * sizeof(float);
    if (cudaMalloc(&device, size) != cudaSuccess) {
        return -1;
    }
    cudaMemcpy(device, values, size, cudaMemcpyHostToDevice);
    scale_kernel<<<(n + 255) / 256, 256>>>(device, n, factor);
    cudaError_t status = cudaMemcpy(values, device, size, cudaMemcpyDeviceToHost);
    cudaFree(device);
    return status == cudaSuccess ? 0 : -1;
}
