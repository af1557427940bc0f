/* leveldemo's native module. Every variant compiles this same file; only the compiler flags
 * differ (fitwheel build puts the variant's -march in CFLAGS), and level() reports which
 * x86-64 level the compiler was allowed to target. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512CD__) && \
    defined(__AVX512DQ__) && defined(__AVX512VL__)
#define LEVEL "v4"
#elif defined(__AVX2__) && defined(__FMA__) && defined(__BMI2__) && defined(__MOVBE__)
#define LEVEL "v3"
#elif defined(__SSE4_2__) && defined(__POPCNT__) && defined(__SSSE3__)
#define LEVEL "v2"
#else
#define LEVEL "v1"
#endif

static PyObject *level(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(LEVEL);
}

/* Some work the compiler may vectorise differently per level. */
static PyObject *dot(PyObject *self, PyObject *args)
{
    Py_buffer a, b;
    if (!PyArg_ParseTuple(args, "y*y*", &a, &b)) {
        return NULL;
    }
    if (a.len != b.len || a.len % sizeof(double) != 0) {
        PyBuffer_Release(&a);
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "dot() needs two buffers of as many doubles");
        return NULL;
    }
    const double *x = a.buf, *y = b.buf;
    double sum = 0.0;
    for (Py_ssize_t i = 0; i < a.len / (Py_ssize_t)sizeof(double); i++) {
        sum += x[i] * y[i];
    }
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return PyFloat_FromDouble(sum);
}

static PyMethodDef methods[] = {
    {"level", level, METH_NOARGS, "The x86-64 level this build was compiled for."},
    {"dot", dot, METH_VARARGS, "The dot product of two buffers of doubles."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
