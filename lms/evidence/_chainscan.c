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
 * million row tuples was the largest cost left once the hash ran in C. They let go of the GIL
 * while they read, so the slices of one verification are read by threads at once (no fork).
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
#include <stdio.h>
#include <stdlib.h>

/* The runs of one slice, as linked_runs() in chain.py makes them: each run's first event (seq and
 * body, to join it to the run before) and its last (seq and hash). The readers run without the
 * GIL (several slices are read by threads at once), so nothing here touches a Python object: runs
 * are kept in C and become Python tuples in finish(), and each reader has its own hash context. */
typedef struct {
    long long first_seq, last_seq;
    char *first_body;
    Py_ssize_t first_length;
    char last_hash[HEX_LEN];
} Run;

typedef struct {
    Run *runs;
    Py_ssize_t count, capacity;
    int open;               /* `current` holds a run */
    Run current;
    EVP_MD_CTX *context;
    char error[512];        /* what went wrong, raised once the GIL is back */
} Runs;

static int runs_init(Runs *state) {
    memset(state, 0, sizeof *state);
    state->context = EVP_MD_CTX_new();
    return state->context == NULL ? -1 : 0;
}

static void runs_free(Runs *state) {
    for (Py_ssize_t i = 0; i < state->count; i++)
        free(state->runs[i].first_body);
    free(state->runs);
    if (state->open)
        free(state->current.first_body);
    EVP_MD_CTX_free(state->context);
}

static int close_run(Runs *state) {
    if (!state->open)
        return 0;
    if (state->count == state->capacity) {
        Py_ssize_t capacity = state->capacity ? 2 * state->capacity : 8;
        Run *grown = realloc(state->runs, (size_t)capacity * sizeof *grown);
        if (grown == NULL) {
            snprintf(state->error, sizeof state->error, "out of memory");
            return -1;
        }
        state->runs = grown;
        state->capacity = capacity;
    }
    state->runs[state->count++] = state->current;
    state->open = 0;
    return 0;
}

/* One row: 1 if it was taken in (linked or starting a new run), 0 if its body does not hash to
 * its stored hash, -1 on an error (in state->error). No Python API: called without the GIL. */
static int take_row(Runs *state, long long seq, const char *body, Py_ssize_t length, const char *hash,
                    Py_ssize_t hash_length) {
    unsigned char digest[32];
    static const char HEX[] = "0123456789abcdef";
    char hex[HEX_LEN];
    if (!EVP_DigestInit_ex2(state->context, sha256, NULL)
            || !EVP_DigestUpdate(state->context, body, (size_t)length)
            || !EVP_DigestFinal_ex(state->context, digest, NULL)) {
        snprintf(state->error, sizeof state->error, "OpenSSL could not compute SHA-256");
        return -1;
    }
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = HEX[digest[i] >> 4];
        hex[2 * i + 1] = HEX[digest[i] & 15];
    }
    if (hash_length != HEX_LEN || memcmp(hex, hash, HEX_LEN) != 0)
        return 0;
    const char *after = last_occurrence(body, length);
    int linked = state->open && seq == state->current.last_seq + 1 && after != NULL && after - body >= HEX_LEN
                 && memcmp(after - HEX_LEN, state->current.last_hash, HEX_LEN) == 0;
    if (!linked) {
        if (close_run(state) < 0)
            return -1;
        char *copy = malloc(length > 0 ? (size_t)length : 1);
        if (copy == NULL) {
            snprintf(state->error, sizeof state->error, "out of memory");
            return -1;
        }
        memcpy(copy, body, (size_t)length);
        state->current.first_seq = seq;
        state->current.first_body = copy;
        state->current.first_length = length;
        state->open = 1;
    }
    state->current.last_seq = seq;
    memcpy(state->current.last_hash, hash, HEX_LEN);
    return 1;
}

/* With the GIL again: the list of runs, None when a body did not hash to its stored hash, NULL
 * with an exception on an error. Frees the state. */
static PyObject *finish(Runs *state, int outcome) {
    PyObject *result = NULL;
    if (outcome == 1 && close_run(state) == 0) {
        result = PyList_New(state->count);
        for (Py_ssize_t i = 0; result != NULL && i < state->count; i++) {
            Run *run = &state->runs[i];
            PyObject *item = Py_BuildValue("(Ly#Ly#)", run->first_seq, run->first_body, run->first_length,
                                           run->last_seq, run->last_hash, (Py_ssize_t)HEX_LEN);
            if (item == NULL)
                Py_CLEAR(result);
            else
                PyList_SET_ITEM(result, i, item);
        }
    } else if (outcome == 0) {
        result = Py_NewRef(Py_None);
    } else {
        PyErr_SetString(PyExc_RuntimeError, state->error[0] ? state->error : "reading the evidence table failed");
    }
    runs_free(state);
    return result;
}
#endif

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

static uint32_t big_endian_32(const char *at) {
    const unsigned char *b = (const unsigned char *)at;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
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
        if ((uint32_t)(end - at - 19) < extension)
            goto malformed;
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
    snprintf(state->error, sizeof state->error, "unexpected data in PostgreSQL's binary COPY");
    return -1;
}

/* The whole read, without the GIL: connect, COPY, take every row. 1, 0 or -1 as take_row. */
static int read_postgresql(Runs *state, const char *conninfo, const char *query) {
    PGconn *connection = PQconnectdb(conninfo);
    int outcome = -1;
    if (PQstatus(connection) != CONNECTION_OK) {
        snprintf(state->error, sizeof state->error, "connecting to PostgreSQL: %s", PQerrorMessage(connection));
        goto done;
    }
    /* Text arrives as the stored UTF-8 bytes, which is what was hashed: no conversion. */
    PGresult *result = PQexec(connection, "SET client_encoding TO 'SQL_ASCII'");
    int ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (ok) {
        result = PQexec(connection, query);
        ok = PQresultStatus(result) == PGRES_COPY_OUT;
        PQclear(result);
    }
    if (!ok) {
        snprintf(state->error, sizeof state->error, "starting the COPY: %s", PQerrorMessage(connection));
        goto done;
    }
    int header_seen = 0, length;
    char *data;
    outcome = 1;
    while ((length = PQgetCopyData(connection, &data, 0)) > 0) {
        int taken = take_copy_message(state, data, length, &header_seen);
        PQfreemem(data);
        if (taken <= 0) {
            outcome = taken;
            break;
        }
    }
    if (outcome == 1 && length == -2) {
        snprintf(state->error, sizeof state->error, "reading the COPY: %s", PQerrorMessage(connection));
        outcome = -1;
    }
done:
    PQfinish(connection);  /* also abandons a COPY left unfinished after a mismatch */
    return outcome;
}

static PyObject *scan_postgresql(PyObject *module, PyObject *args) {
    const char *conninfo, *query;
    if (!PyArg_ParseTuple(args, "ss:scan_postgresql", &conninfo, &query))
        return NULL;
    Runs state;
    if (runs_init(&state) < 0)
        return PyErr_NoMemory();
    int outcome;
    Py_BEGIN_ALLOW_THREADS
    outcome = read_postgresql(&state, conninfo, query);
    Py_END_ALLOW_THREADS
    return finish(&state, outcome);
}
#endif

#ifdef HAVE_SQLITE
#include <sqlite3.h>

/* The whole read, without the GIL: open the file read-only, step through the rows. */
static int read_sqlite(Runs *state, const char *path, const char *query, long long start, long long end,
                       long long length) {
    sqlite3 *database = NULL;
    sqlite3_stmt *statement = NULL;
    int outcome = -1, step = SQLITE_DONE;
    if (sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
            || sqlite3_prepare_v2(database, query, -1, &statement, NULL) != SQLITE_OK) {
        snprintf(state->error, sizeof state->error, "reading %s: %s", path,
                 database ? sqlite3_errmsg(database) : "out of memory");
        goto done;
    }
    sqlite3_bind_int64(statement, 1, start);
    sqlite3_bind_int64(statement, 2, end);
    sqlite3_bind_int64(statement, 3, length);
    outcome = 1;
    while (outcome == 1 && (step = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_blob(statement, 1);
        Py_ssize_t body_length = sqlite3_column_bytes(statement, 1);
        const char *hash = (const char *)sqlite3_column_blob(statement, 2);
        Py_ssize_t hash_length = sqlite3_column_bytes(statement, 2);
        outcome = take_row(state, sqlite3_column_int64(statement, 0), body ? body : "", body_length,
                           hash ? hash : "", hash_length);
    }
    if (outcome == 1 && step != SQLITE_DONE) {
        snprintf(state->error, sizeof state->error, "reading %s: %s", path, sqlite3_errmsg(database));
        outcome = -1;
    }
done:
    sqlite3_finalize(statement);
    sqlite3_close(database);
    return outcome;
}

static PyObject *scan_sqlite(PyObject *module, PyObject *args) {
    const char *path, *query;
    long long start, end, length;
    if (!PyArg_ParseTuple(args, "ssLLL:scan_sqlite", &path, &query, &start, &end, &length))
        return NULL;
    Runs state;
    if (runs_init(&state) < 0)
        return PyErr_NoMemory();
    int outcome;
    Py_BEGIN_ALLOW_THREADS
    outcome = read_sqlite(&state, path, query, start, end, length);
    Py_END_ALLOW_THREADS
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
