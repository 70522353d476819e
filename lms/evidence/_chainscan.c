/* The hot loop of evidence verification, in C: `link_breaks` of lms/evidence/chain.py.
 *
 * Verifying a million events is hashing a million short bodies. Python's per-row overhead
 * (creating a hash object, a hex string, a slice) cost more than the SHA-256 itself, so this
 * loop does the same checks with OpenSSL directly on the row tuples the database driver
 * returned. chain.py holds the reference implementation in Python, used when this module is
 * not built; tests assert that both give the same answer on intact, shuffled and tampered rows.
 *
 * Where the build found their headers, two readers go one step further: `scan_postgresql` and
 * `scan_sqlite` read a slice of the table themselves (libpq's binary COPY; SQLite's own API)
 * and return its linked runs, so no Python object is made per row — the driver building a
 * million row tuples was the largest cost left once the hash ran in C.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <stdint.h>
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

/* ---- Readers: a slice of the table straight from the database, cut into linked runs. ---- */

#if defined(HAVE_LIBPQ) || defined(HAVE_SQLITE)
/* The runs of one slice, as linked_runs() in chain.py makes them: each run's first event (seq and
 * body, to join it to the run before) and its last (seq and hash). Breaks are rare (one per slice
 * for an append-only table), so a run's first body is copied into a Python object at once. */
typedef struct {
    PyObject *runs;           /* list of (first_seq, first_body, last_seq, last_hash) */
    long long first_seq, last_seq;
    PyObject *first_body;     /* NULL before the first row */
    char last_hash[HEX_LEN];
} Runs;

static int close_run(Runs *state) {
    if (state->first_body == NULL)
        return 0;
    PyObject *run = Py_BuildValue("(LOLy#)", state->first_seq, state->first_body, state->last_seq,
                                  state->last_hash, (Py_ssize_t)HEX_LEN);
    Py_CLEAR(state->first_body);
    if (run == NULL)
        return -1;
    int failed = PyList_Append(state->runs, run);
    Py_DECREF(run);
    return failed;
}

/* One row: 1 if it was taken in (linked or starting a new run), 0 if its body does not hash to
 * its stored hash, -1 on an error (exception set). */
static int take_row(Runs *state, long long seq, const char *body, Py_ssize_t length, const char *hash,
                    Py_ssize_t hash_length) {
    unsigned char digest[32];
    static const char HEX[] = "0123456789abcdef";
    char hex[HEX_LEN];
    if (!EVP_DigestInit_ex2(context, sha256, NULL) || !EVP_DigestUpdate(context, body, (size_t)length)
            || !EVP_DigestFinal_ex(context, digest, NULL)) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not compute SHA-256");
        return -1;
    }
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = HEX[digest[i] >> 4];
        hex[2 * i + 1] = HEX[digest[i] & 15];
    }
    if (hash_length != HEX_LEN || memcmp(hex, hash, HEX_LEN) != 0)
        return 0;
    const char *after = last_occurrence(body, length);
    int linked = state->first_body != NULL && seq == state->last_seq + 1 && after != NULL
                 && after - body >= HEX_LEN && memcmp(after - HEX_LEN, state->last_hash, HEX_LEN) == 0;
    if (!linked) {
        if (close_run(state) < 0)
            return -1;
        state->first_seq = seq;
        state->first_body = PyBytes_FromStringAndSize(body, length);
        if (state->first_body == NULL)
            return -1;
    }
    state->last_seq = seq;
    memcpy(state->last_hash, hash, HEX_LEN);
    return 1;
}

/* The finished list, None when a body did not hash to its stored hash, NULL on an error. */
static PyObject *finish(Runs *state, int outcome) {
    if (outcome == 1 && close_run(state) == 0)
        return state->runs;
    Py_CLEAR(state->first_body);
    Py_DECREF(state->runs);
    if (outcome == 0 && !PyErr_Occurred())
        Py_RETURN_NONE;
    return NULL;
}
#endif

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

static uint32_t big_endian_32(const char *at) {
    const unsigned char *b = (const unsigned char *)at;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static PyObject *libpq_error(PGconn *connection, const char *doing) {
    PyErr_Format(PyExc_RuntimeError, "%s: %s", doing, PQerrorMessage(connection));
    return NULL;
}

/* One binary COPY message: (the header, for the first,) one tuple (seq int8, body, hash) or the
 * trailer. 1 taken, 0 hash mismatch, 2 the trailer, -1 error. */
static int take_copy_message(Runs *state, const char *data, int length, int *header_seen) {
    static const char SIGNATURE[] = "PGCOPY\n\377\r\n";
    const char *at = data, *end = data + length;
    if (!*header_seen) {
        if (length < 19 || memcmp(at, SIGNATURE, 11) != 0)
            goto malformed;
        uint32_t extension = big_endian_32(at + 15);
        at += 19 + extension;
        *header_seen = 1;
        if (at == end)
            return 1;  /* the header came on its own */
    }
    if (end - at < 2)
        goto malformed;
    int fields = (int16_t)((unsigned char)at[0] << 8 | (unsigned char)at[1]);
    at += 2;
    if (fields == -1)
        return 2;
    if (fields != 3)
        goto malformed;
    const char *value[3];
    int32_t size[3];
    for (int i = 0; i < 3; i++) {
        if (end - at < 4)
            goto malformed;
        size[i] = (int32_t)big_endian_32(at);
        at += 4;
        if (size[i] < 0 || end - at < size[i])
            goto malformed;  /* no column of an event is NULL */
        value[i] = at;
        at += size[i];
    }
    if (size[0] != 8)
        goto malformed;
    long long seq = (long long)((uint64_t)big_endian_32(value[0]) << 32 | big_endian_32(value[0] + 4));
    return take_row(state, seq, value[1], size[1], value[2], size[2]);
malformed:
    PyErr_SetString(PyExc_RuntimeError, "unexpected data in PostgreSQL's binary COPY");
    return -1;
}

static PyObject *scan_postgresql(PyObject *module, PyObject *args) {
    const char *conninfo, *query;
    if (!PyArg_ParseTuple(args, "ss:scan_postgresql", &conninfo, &query))
        return NULL;
    PGconn *connection = PQconnectdb(conninfo);
    if (PQstatus(connection) != CONNECTION_OK) {
        libpq_error(connection, "connecting to PostgreSQL");
        PQfinish(connection);
        return NULL;
    }
    /* Text arrives as the stored UTF-8 bytes, which is what was hashed: no conversion. */
    PGresult *result = PQexec(connection, "SET client_encoding TO 'SQL_ASCII'");
    int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
        libpq_error(connection, "setting the client encoding");
        PQfinish(connection);
        return NULL;
    }
    result = PQexec(connection, query);
    ok = PQresultStatus(result) == PGRES_COPY_OUT;
    PQclear(result);
    if (!ok) {
        libpq_error(connection, "starting the COPY");
        PQfinish(connection);
        return NULL;
    }
    Runs state = {.runs = PyList_New(0)};
    if (state.runs == NULL) {
        PQfinish(connection);
        return NULL;
    }
    int outcome = 1, header_seen = 0;
    char *data;
    int length;
    while ((length = PQgetCopyData(connection, &data, 0)) > 0) {
        int taken = take_copy_message(&state, data, length, &header_seen);
        PQfreemem(data);
        if (taken == 2)
            continue;
        if (taken <= 0) {
            outcome = taken;
            break;
        }
    }
    if (outcome == 1 && length == -2) {
        libpq_error(connection, "reading the COPY");
        outcome = -1;
    }
    PQfinish(connection);  /* also abandons a COPY left unfinished after a mismatch */
    return finish(&state, outcome);
}
#endif

#ifdef HAVE_SQLITE
#include <sqlite3.h>

static PyObject *scan_sqlite(PyObject *module, PyObject *args) {
    const char *path, *query;
    long long start, end, length;
    if (!PyArg_ParseTuple(args, "ssLLL:scan_sqlite", &path, &query, &start, &end, &length))
        return NULL;
    sqlite3 *database = NULL;
    sqlite3_stmt *statement = NULL;
    if (sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
            || sqlite3_prepare_v2(database, query, -1, &statement, NULL) != SQLITE_OK) {
        PyErr_Format(PyExc_RuntimeError, "reading %s: %s", path,
                     database ? sqlite3_errmsg(database) : "out of memory");
        sqlite3_finalize(statement);
        sqlite3_close(database);
        return NULL;
    }
    sqlite3_bind_int64(statement, 1, start);
    sqlite3_bind_int64(statement, 2, end);
    sqlite3_bind_int64(statement, 3, length);
    Runs state = {.runs = PyList_New(0)};
    int outcome = state.runs == NULL ? -1 : 1, step;
    while (outcome == 1 && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_blob(statement, 1);
        Py_ssize_t body_length = sqlite3_column_bytes(statement, 1);
        const char *hash = (const char *)sqlite3_column_blob(statement, 2);
        Py_ssize_t hash_length = sqlite3_column_bytes(statement, 2);
        outcome = take_row(&state, sqlite3_column_int64(statement, 0), body ? body : "", body_length,
                           hash ? hash : "", hash_length);
    }
    if (outcome == 1 && step != SQLITE_DONE) {
        PyErr_Format(PyExc_RuntimeError, "reading %s: %s", path, sqlite3_errmsg(database));
        outcome = -1;
    }
    sqlite3_finalize(statement);
    sqlite3_close(database);
    if (state.runs == NULL)
        return NULL;
    return finish(&state, outcome);
}
#endif

static PyMethodDef methods[] = {
    {"link_breaks", link_breaks, METH_VARARGS,
     "link_breaks(rows, last_seq, last_hash) -> list of indices of rows that do not link to the row "
     "before them, or None as soon as a body does not hash to its stored hash."},
#ifdef HAVE_LIBPQ
    {"scan_postgresql", scan_postgresql, METH_VARARGS,
     "scan_postgresql(conninfo, copy_query) -> the linked runs [(first_seq, first_body, last_seq, last_hash)] "
     "of the rows a binary COPY of (seq, body, hash) returns, or None as soon as a body does not hash to its "
     "stored hash."},
#endif
#ifdef HAVE_SQLITE
    {"scan_sqlite", scan_sqlite, METH_VARARGS,
     "scan_sqlite(path, query, start, end, length) -> the same for the rows of a SELECT seq, body, hash "
     "bound to (start, end, length), read from the database file itself."},
#endif
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
