/* The one source of every build of fatdemo's extension. setup.py compiles it once per build,
 * each time with its own -march and FATDEMO_MODULE (the module's name). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifndef FATDEMO_MODULE
#error "compile with -DFATDEMO_MODULE=<module name>, as setup.py does"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

static PyObject *build(PyObject *self, PyObject *unused)
{
    return PyUnicode_FromString(STR(FATDEMO_MODULE));
}

/* The instruction-set extensions the compiler was allowed to use for this build. */
static PyObject *isa(PyObject *self, PyObject *unused)
{
    static const char *const names[] = {
#ifdef __SSE4_2__
        "sse4_2",
#endif
#ifdef __POPCNT__
        "popcnt",
#endif
#ifdef __AVX__
        "avx",
#endif
#ifdef __AVX2__
        "avx2",
#endif
#ifdef __FMA__
        "fma",
#endif
#ifdef __AVX512F__
        "avx512f",
#endif
#ifdef __ARM_NEON
        "asimd",
#endif
#ifdef __ARM_FEATURE_ATOMICS
        "atomics",
#endif
#ifdef __ARM_FEATURE_SVE
        "sve",
#endif
        NULL,
    };
    PyObject *list = PyList_New(0);
    for (const char *const *name = names; list != NULL && *name != NULL; name++) {
        PyObject *item = PyUnicode_FromString(*name);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

/* Some real work to call: the dot product of two buffers of doubles. */
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
    Py_ssize_t n = a.len / (Py_ssize_t)sizeof(double);
    double total = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        total += x[i] * y[i];
    }
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return PyFloat_FromDouble(total);
}

static PyMethodDef methods[] = {
    {"build", build, METH_NOARGS, "The name of this build of the extension."},
    {"isa", isa, METH_NOARGS, "The instruction-set extensions this build was compiled for."},
    {"dot", dot, METH_VARARGS, "dot(a, b): the dot product of two buffers of doubles."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "fatdemo." STR(FATDEMO_MODULE), NULL, -1, methods,
};

PyMODINIT_FUNC CAT(PyInit_, FATDEMO_MODULE)(void)
{
    return PyModule_Create(&module);
}
