/* The hot loop of evidence verification, in C: `link_breaks` of lms/evidence/chain.py.
 *
 * Verifying a million events is hashing a million short bodies. Python's per-row overhead
 * (creating a hash object, a hex string, a slice) cost more than the SHA-256 itself, so this
 * loop does the same checks with OpenSSL directly on the row tuples the database driver
 * returned. chain.py holds the reference implementation in Python, used when this module is
 * not built; tests assert that both give the same answer on intact, shuffled and tampered rows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <string.h>

#define HEX_LEN 64
/* The body's keys are sorted, so the top-level prev_hash is the 64 characters before its last
 * `","seq":` (see _AFTER_PREV_HASH in chain.py). */
static const char AFTER_PREV_HASH[] = "\",\"seq\":";
#define AFTER_LEN (sizeof AFTER_PREV_HASH - 1)

static EVP_MD *sha256;
/* One context, reused: every call holds the GIL throughout, so threads never share it at once. */
static EVP_MD_CTX *context;

static const char *last_occurrence(const char *text, Py_ssize_t length) {
    for (Py_ssize_t at = length - (Py_ssize_t)AFTER_LEN; at >= 0; at--)
        if (text[at] == '"' && memcmp(text + at, AFTER_PREV_HASH, AFTER_LEN) == 0)
            return text + at;
    return NULL;
}

/* 1 if the body hashes to the stored hex digest, 0 if not, -1 on an OpenSSL error. */
static int hashes_to(const char *body, Py_ssize_t length, PyObject *stored) {
    static const char HEX[] = "0123456789abcdef";
    unsigned char digest[32];
    char hex[HEX_LEN];
    if (!EVP_DigestInit_ex2(context, sha256, NULL) || !EVP_DigestUpdate(context, body, (size_t)length)
            || !EVP_DigestFinal_ex(context, digest, NULL))
        return -1;
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = HEX[digest[i] >> 4];
        hex[2 * i + 1] = HEX[digest[i] & 15];
    }
    return PyBytes_GET_SIZE(stored) == HEX_LEN && memcmp(hex, PyBytes_AS_STRING(stored), HEX_LEN) == 0;
}

static PyObject *link_breaks(PyObject *module, PyObject *args) {
    PyObject *rows, *last_hash;
    long long last_seq;
    if (!PyArg_ParseTuple(args, "OLS:link_breaks", &rows, &last_seq, &last_hash))
        return NULL;
    PyObject *sequence = PySequence_Fast(rows, "rows must be a sequence of (seq, body, hash)");
    if (sequence == NULL)
        return NULL;
    PyObject *breaks = PyList_New(0);
    if (breaks == NULL) {
        Py_DECREF(sequence);
        return NULL;
    }
    PyObject *previous_hash = last_hash;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    PyObject **items = PySequence_Fast_ITEMS(sequence);
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *row = items[index];
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 3
                || !PyBytes_Check(PyTuple_GET_ITEM(row, 1)) || !PyBytes_Check(PyTuple_GET_ITEM(row, 2))) {
            PyErr_SetString(PyExc_TypeError, "each row must be a tuple (seq, body bytes, hash bytes)");
            goto fail;
        }
        long long seq = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 0));
        if (seq == -1 && PyErr_Occurred())
            goto fail;
        PyObject *body = PyTuple_GET_ITEM(row, 1), *stored_hash = PyTuple_GET_ITEM(row, 2);
        const char *text = PyBytes_AS_STRING(body);
        Py_ssize_t length = PyBytes_GET_SIZE(body);
        int hashed = hashes_to(text, length, stored_hash);
        if (hashed < 0) {
            PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute SHA-256");
            goto fail;
        }
        if (!hashed) {
            Py_DECREF(breaks);
            Py_DECREF(sequence);
            Py_RETURN_NONE;
        }
        const char *after = last_occurrence(text, length);
        int linked = seq == last_seq + 1 && after != NULL && after - text >= HEX_LEN
                     && PyBytes_GET_SIZE(previous_hash) == HEX_LEN
                     && memcmp(after - HEX_LEN, PyBytes_AS_STRING(previous_hash), HEX_LEN) == 0;
        if (!linked) {
            PyObject *position = PyLong_FromSsize_t(index);
            if (position == NULL || PyList_Append(breaks, position) < 0) {
                Py_XDECREF(position);
                goto fail;
            }
            Py_DECREF(position);
        }
        last_seq = seq;
        previous_hash = stored_hash;
    }
    Py_DECREF(sequence);
    return breaks;
fail:
    Py_DECREF(breaks);
    Py_DECREF(sequence);
    return NULL;
}

static PyMethodDef methods[] = {
    {"link_breaks", link_breaks, METH_VARARGS,
     "link_breaks(rows, last_seq, last_hash) -> list of indices of rows that do not link to the row "
     "before them, or None as soon as a body does not hash to its stored hash."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef chainscan = {PyModuleDef_HEAD_INIT, "_chainscan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__chainscan(void) {
    /* Fetched once: OpenSSL 3 looks the algorithm up on every call otherwise. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    context = EVP_MD_CTX_new();
    if (sha256 == NULL || context == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL provides no SHA-256");
        return NULL;
    }
    return PyModule_Create(&chainscan);
}
