/*
 * The pipeline's hot paths in C: reading OCDS releases at ingest and merging them at compile.
 *
 * Each function is a fast path beside a Python reference implementation (`ingest._examine`,
 * `merge.Merger.compiled`) and gives byte-identical results. Whenever the input is anything but
 * plain (a number orjson would turn into a float, a duplicate key, an id that is not a string or
 * an integer, a record, OCDS 1.0, nesting deeper than MAX_DEPTH...), it returns None and the
 * caller takes the Python path, which decides and reports. So this file never needs to know how
 * to quarantine a release or word an error: it only needs to be at least as strict as orjson.
 *
 * Memory: every call parses into its own arena and frees it before returning; nothing is kept
 * between calls but merge plans, which Python owns through capsules. See docs/adr/0011.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64  /* OCDS nests about 8 deep; deeper input takes the Python path */

/* -- arena ------------------------------------------------------------------------------------ */
typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    max_align_t data[];
} Chunk;

typedef struct {
    Chunk *head;
} Arena;

#define CHUNK_BYTES 65536

/* One chunk is kept between calls: fresh memory from the system costs a page fault per page. */
static Chunk *spare_chunk = NULL;

static void *arena_alloc(Arena *arena, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    Chunk *chunk = arena->head;
    if (chunk == NULL || chunk->size - chunk->used < size) {
        if (size <= CHUNK_BYTES && spare_chunk != NULL) {
            chunk = spare_chunk;
            spare_chunk = NULL;
        } else {
            size_t capacity = size > CHUNK_BYTES ? size : CHUNK_BYTES;
            if (capacity > SIZE_MAX - sizeof(Chunk))
                return NULL;
            chunk = malloc(sizeof(Chunk) + capacity);
            if (chunk == NULL)
                return NULL;
            chunk->size = capacity;
        }
        chunk->used = 0;
        chunk->next = arena->head;
        arena->head = chunk;
    }
    void *memory = (char *)chunk->data + chunk->used;
    chunk->used += size;
    return memory;
}

static void arena_free(Arena *arena)
{
    Chunk *chunk = arena->head;
    while (chunk != NULL) {
        Chunk *next = chunk->next;
        if (spare_chunk == NULL && chunk->size == CHUNK_BYTES)
            spare_chunk = chunk;
        else
            free(chunk);
        chunk = next;
    }
    arena->head = NULL;
}

/* -- parsed JSON ------------------------------------------------------------------------------ */
enum { J_NULL, J_FALSE, J_TRUE, J_INT, J_FLOAT, J_STRING, J_ARRAY, J_OBJECT };

typedef struct Node {
    struct Node *next;  /* the next member or item of the parent */
    struct Node *first; /* the first member or item of an object or array */
    const char *key;    /* an object member's key, decoded UTF-8 */
    const char *text;   /* a string's decoded UTF-8, a number's text as written, or where an
                           object or array starts in the input */
    uint32_t key_len;
    uint32_t len;       /* bytes of `text`, or the number of members or items */
    uint8_t type;
    uint8_t key_plain;  /* the key needs no escaping */
    uint8_t plain;      /* the string needs no escaping */
    uint32_t span;      /* an object's or array's bytes in the input (0: over 4 GB) */
} Node;

typedef struct {
    const unsigned char *p, *end;
    Arena *arena;
    int depth;
    int failed;
} Parser;

static void skip_space(Parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(const unsigned char *p, const unsigned char *end, uint32_t *value)
{
    if (end - p < 4)
        return -1;
    uint32_t result = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(p[i]);
        if (digit < 0)
            return -1;
        result = (result << 4) | (uint32_t)digit;
    }
    *value = result;
    return 0;
}

/* The length of the valid UTF-8 sequence at p (no overlongs, no surrogates), or 0. */
static int utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (end - p >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* a surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* beyond U+10FFFF */
        return 4;
    }
    return 0;
}

static unsigned char *put_utf8(unsigned char *out, uint32_t code)
{
    if (code < 0x80) {
        *out++ = (unsigned char)code;
    } else if (code < 0x800) {
        *out++ = (unsigned char)(0xC0 | (code >> 6));
        *out++ = (unsigned char)(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *out++ = (unsigned char)(0xE0 | (code >> 12));
        *out++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (code & 0x3F));
    } else {
        *out++ = (unsigned char)(0xF0 | (code >> 18));
        *out++ = (unsigned char)(0x80 | ((code >> 12) & 0x3F));
        *out++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (code & 0x3F));
    }
    return out;
}

/* Bytes a string scan must stop at: the quote, the backslash, control characters and the
 * start of a multi-byte UTF-8 sequence (checked on its own). */
static unsigned char special_byte[256];

static void init_tables(void)
{
    for (int c = 0; c < 256; c++)
        special_byte[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* A string after its opening quote: its decoded text, length and whether it needs escaping. */
static int parse_string(Parser *ps, const char **text, uint32_t *len, uint8_t *plain)
{
    const unsigned char *start = ps->p;
    const unsigned char *p = start;
    while (p < ps->end) {
        while (p < ps->end && !special_byte[*p])
            p++;
        if (p >= ps->end)
            break;
        unsigned char c = *p;
        if (c == '"') {
            if (p - start > UINT32_MAX)
                return -1;
            *text = (const char *)start;
            *len = (uint32_t)(p - start);
            *plain = 1;
            ps->p = p + 1;
            return 0;
        }
        if (c == '\\')
            break;
        if (c < 0x20)
            return -1;
        if (c < 0x80) {
            p++;
        } else {
            int n = utf8_length(p, ps->end);
            if (n == 0)
                return -1;
            p += n;
        }
    }
    if (p >= ps->end)
        return -1;
    /* Escapes: decode into the arena (the decoded text is never longer than the written one). */
    const unsigned char *close = p;
    while (close < ps->end && *close != '"') {
        if (*close == '\\')
            close++;
        close++;
    }
    if (close >= ps->end || close - start > UINT32_MAX)
        return -1;
    unsigned char *out = arena_alloc(ps->arena, (size_t)(close - start) + 1);
    if (out == NULL)
        return -1;
    unsigned char *w = out;
    memcpy(w, start, (size_t)(p - start));
    w += p - start;
    uint8_t is_plain = 1;
    while (p < ps->end) {
        unsigned char c = *p;
        if (c == '"') {
            *text = (const char *)out;
            *len = (uint32_t)(w - out);
            *plain = is_plain;
            ps->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            int n = c < 0x80 ? 1 : utf8_length(p, ps->end);
            if (n == 0)
                return -1;
            memcpy(w, p, (size_t)n);
            w += n;
            p += n;
            continue;
        }
        if (ps->end - p < 2)
            return -1;
        unsigned char e = p[1];
        p += 2;
        switch (e) {
        case '"': *w++ = '"'; is_plain = 0; break;
        case '\\': *w++ = '\\'; is_plain = 0; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; is_plain = 0; break;
        case 'f': *w++ = '\f'; is_plain = 0; break;
        case 'n': *w++ = '\n'; is_plain = 0; break;
        case 'r': *w++ = '\r'; is_plain = 0; break;
        case 't': *w++ = '\t'; is_plain = 0; break;
        case 'u': {
            uint32_t code;
            if (read_hex4(p, ps->end, &code) < 0)
                return -1;
            p += 4;
            if (code >= 0xDC00 && code <= 0xDFFF)
                return -1; /* a low surrogate alone */
            if (code >= 0xD800 && code <= 0xDBFF) {
                uint32_t low;
                if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || read_hex4(p + 2, ps->end, &low) < 0)
                    return -1;
                if (low < 0xDC00 || low > 0xDFFF)
                    return -1;
                p += 6;
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            }
            if (code < 0x20)
                is_plain = 0;
            w = put_utf8(w, code);
            break;
        }
        default:
            return -1;
        }
    }
    return -1;
}

/* A number as JSON writes it; `type` says whether orjson reads it as an int or a float. */
static int parse_number(Parser *ps, Node *node)
{
    const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
    int negative = 0;
    if (p < end && *p == '-') {
        negative = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return -1;
    uint64_t magnitude = 0;
    int overflow = 0;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return -1; /* a leading zero */
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            uint64_t digit = (uint64_t)(*p - '0');
            if (magnitude > (UINT64_MAX - digit) / 10)
                overflow = 1;
            else
                magnitude = magnitude * 10 + digit;
            p++;
        }
    }
    int is_float = 0;
    if (p < end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (!is_float) {
        /* orjson keeps integers in [-2**63, 2**64 - 1] as int and reads others as float. */
        if (overflow || (negative && magnitude > (uint64_t)INT64_MAX + 1))
            return -1;
    }
    node->type = is_float ? J_FLOAT : J_INT;
    node->text = (const char *)start;
    node->len = (uint32_t)(p - start);
    ps->p = p;
    return 0;
}

static Node *new_node(Parser *ps, uint8_t type)
{
    Node *node = arena_alloc(ps->arena, sizeof(Node));
    if (node == NULL)
        return NULL;
    memset(node, 0, sizeof(Node));
    node->type = type;
    return node;
}

static Node *parse_value(Parser *ps);

/* Add a parsed member or item to its container, then read the comma or the closing bracket:
 * 1 if more follow, 0 if the container is closed, -1 for anything else. */
static int add_child(Parser *ps, Node *node, Node ***tail, Node *child, char close)
{
    **tail = child;
    *tail = &child->next;
    if (node->len == UINT32_MAX)
        return -1;
    node->len++;
    skip_space(ps);
    if (ps->p >= ps->end)
        return -1;
    if (*ps->p == ',') {
        ps->p++;
        return 1;
    }
    if (*ps->p == (unsigned char)close) {
        ps->p++;
        return 0;
    }
    return -1;
}

static Node *parse_array(Parser *ps)
{
    Node *node = new_node(ps, J_ARRAY);
    if (node == NULL)
        return NULL;
    Node **tail = &node->first;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return node;
    }
    for (;;) {
        Node *item = parse_value(ps);
        int more = item == NULL ? -1 : add_child(ps, node, &tail, item, ']');
        if (more <= 0)
            return more == 0 ? node : NULL;
    }
}

static Node *parse_object(Parser *ps)
{
    Node *node = new_node(ps, J_OBJECT);
    if (node == NULL)
        return NULL;
    Node **tail = &node->first;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return node;
    }
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '"')
            return NULL;
        ps->p++;
        const char *key;
        uint32_t key_len;
        uint8_t key_plain;
        if (parse_string(ps, &key, &key_len, &key_plain) < 0)
            return NULL;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':')
            return NULL;
        ps->p++;
        Node *value = parse_value(ps);
        if (value == NULL)
            return NULL;
        value->key = key;
        value->key_len = key_len;
        value->key_plain = key_plain;
        int more = add_child(ps, node, &tail, value, '}');
        if (more <= 0)
            return more == 0 ? node : NULL;
    }
}

static int literal(Parser *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return -1;
    ps->p += len;
    return 0;
}

static Node *parse_value(Parser *ps)
{
    skip_space(ps);
    if (ps->p >= ps->end)
        return NULL;
    unsigned char c = *ps->p;
    Node *node;
    switch (c) {
    case '{':
    case '[': {
        if (++ps->depth > MAX_DEPTH)
            return NULL;
        const unsigned char *begin = ps->p++;
        node = c == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        if (node != NULL) {
            node->text = (const char *)begin;
            node->span = ps->p - begin <= UINT32_MAX ? (uint32_t)(ps->p - begin) : 0;
        }
        return node;
    }
    case '"':
        ps->p++;
        node = new_node(ps, J_STRING);
        if (node == NULL || parse_string(ps, &node->text, &node->len, &node->plain) < 0)
            return NULL;
        return node;
    case 't':
        return literal(ps, "true", 4) < 0 ? NULL : new_node(ps, J_TRUE);
    case 'f':
        return literal(ps, "false", 5) < 0 ? NULL : new_node(ps, J_FALSE);
    case 'n':
        return literal(ps, "null", 4) < 0 ? NULL : new_node(ps, J_NULL);
    default:
        node = new_node(ps, J_INT);
        if (node == NULL || parse_number(ps, node) < 0)
            return NULL;
        return node;
    }
}

/* The whole of `data` as one JSON value, or NULL. */
static Node *parse_document(Arena *arena, const char *data, Py_ssize_t size)
{
    Parser ps = {(const unsigned char *)data, (const unsigned char *)data + size, arena, 0, 0};
    Node *root = parse_value(&ps);
    if (root == NULL)
        return NULL;
    skip_space(&ps);
    return ps.p == ps.end ? root : NULL;
}

static Node *member(const Node *object, const char *key, uint32_t key_len)
{
    for (Node *child = object->first; child != NULL; child = child->next)
        if (child->key_len == key_len && (key_len == 0 || child->key[0] == key[0]) &&
            memcmp(child->key, key, key_len) == 0)
            return child;
    return NULL;
}

#define MEMBER(object, literal_key) member((object), (literal_key), sizeof(literal_key) - 1)
#define KEY_IS(node, literal_key) \
    ((node)->key_len == sizeof(literal_key) - 1 && memcmp((node)->key, (literal_key), sizeof(literal_key) - 1) == 0)

/* -- writing JSON as orjson does -------------------------------------------------------------- */
typedef struct {
    char *data;
    size_t len, capacity;
    int failed;
} Out;

static int out_grow(Out *out, size_t extra);

/* Room for `extra` more bytes: 0, or -1 once memory has run out (then nothing more is written). */
static inline int out_reserve(Out *out, size_t extra)
{
    if (out->capacity - out->len >= extra && !out->failed)
        return 0;
    return out_grow(out, extra);
}

static int out_grow(Out *out, size_t extra)
{
    if (out->failed)
        return -1;
    if (out->capacity - out->len >= extra)
        return 0;
    size_t capacity = out->capacity ? out->capacity : 4096;
    while (capacity - out->len < extra) {
        if (capacity > SIZE_MAX / 2) {
            out->failed = 1;
            return -1;
        }
        capacity *= 2;
    }
    char *data = realloc(out->data, capacity);
    if (data == NULL) {
        out->failed = 1;
        return -1;
    }
    out->data = data;
    out->capacity = capacity;
    return 0;
}

static inline void out_bytes(Out *out, const char *bytes, size_t len)
{
    if (out_reserve(out, len) < 0)
        return;
    memcpy(out->data + out->len, bytes, len);
    out->len += len;
}

static inline void out_char(Out *out, char c)
{
    if (out_reserve(out, 1) < 0)
        return;
    out->data[out->len++] = c;
}

static void out_string(Out *out, const char *text, uint32_t len, int plain)
{
    static const char hex[] = "0123456789abcdef";
    if (plain) {
        if (out_reserve(out, (size_t)len + 2) < 0)
            return;
        out->data[out->len++] = '"';
        memcpy(out->data + out->len, text, len);
        out->len += len;
        out->data[out->len++] = '"';
        return;
    }
    if (out_reserve(out, (size_t)len * 6 + 2) < 0)
        return;
    char *w = out->data + out->len;
    *w++ = '"';
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!needs_escape(c)) {
            *w++ = (char)c;
            continue;
        }
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w++ = '"';
    out->len = (size_t)(w - out->data);
}

/* A float as orjson writes it: Python's repr, when that has no exponent (orjson and repr write
 * exponents differently, so such floats take the Python path). */
static int out_float(Out *out, const Node *node)
{
    char buffer[64];
    if (node->len >= sizeof buffer)
        return -1;
    memcpy(buffer, node->text, node->len);
    buffer[node->len] = '\0';
    char *end = NULL;
    double value = PyOS_string_to_double(buffer, &end, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (end != buffer + node->len || Py_IS_INFINITY(value) || Py_IS_NAN(value))
        return -1;
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        PyErr_Clear();
        return -1;
    }
    int result = 0;
    if (strchr(text, 'e') != NULL || strchr(text, 'n') != NULL)
        result = -1;
    else
        out_bytes(out, text, strlen(text));
    PyMem_Free(text);
    return result;
}

static int key_order(const void *left, const void *right)
{
    const Node *a = *(const Node *const *)left, *b = *(const Node *const *)right;
    uint32_t shorter = a->key_len < b->key_len ? a->key_len : b->key_len;
    if (shorter && a->key[0] != b->key[0]) /* most keys differ at once: no call to memcmp */
        return (unsigned char)a->key[0] < (unsigned char)b->key[0] ? -1 : 1;
    int order = memcmp(a->key, b->key, shorter);
    if (order != 0)
        return order;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* Members by key: insertion sort for the few keys an object has, qsort beyond. */
static void sort_members(const Node **members, uint32_t count)
{
    if (count > 24) {
        qsort(members, count, sizeof(Node *), key_order);
        return;
    }
    for (uint32_t i = 1; i < count; i++) {
        const Node *item = members[i];
        uint32_t j = i;
        while (j > 0 && key_order(&members[j - 1], &item) > 0) {
            members[j] = members[j - 1];
            j--;
        }
        members[j] = item;
    }
}

/* The members of an object sorted by key, or NULL when a key repeats (orjson keeps the last
 * value; the Python path decides) or memory runs out. */
static const Node **sorted_members(const Node *object, Arena *arena, uint32_t *count);

/* How `write_value` treats what it writes. */
enum {
    AS_IS = 0,     /* input already written by orjson: numbers are copied as they are */
    CANONICAL = 1  /* orjson.dumps(value, option=OPT_SORT_KEYS) of orjson.loads(input) */
};

static int write_value(Out *out, const Node *node, int mode, Arena *arena);

static int write_members(Out *out, const Node *object, int mode, Arena *arena)
{
    if (object->len == 0) {
        out_bytes(out, "{}", 2);
        return 0;
    }
    const Node **members = NULL;
    if (mode == CANONICAL) {
        uint32_t count;
        members = sorted_members(object, arena, &count);
        if (members == NULL)
            return -1;
    }
    out_char(out, '{');
    const Node *child = object->first;
    for (uint32_t i = 0; i < object->len; i++) {
        const Node *item = members ? members[i] : child;
        if (i)
            out_char(out, ',');
        out_string(out, item->key, item->key_len, item->key_plain);
        out_char(out, ':');
        if (write_value(out, item, mode, arena) < 0)
            return -1;
        if (!members)
            child = child->next;
    }
    out_char(out, '}');
    return out->failed ? -1 : 0;
}

static int write_value(Out *out, const Node *node, int mode, Arena *arena)
{
    switch (node->type) {
    case J_NULL: out_bytes(out, "null", 4); break;
    case J_TRUE: out_bytes(out, "true", 4); break;
    case J_FALSE: out_bytes(out, "false", 5); break;
    case J_INT:
        if (mode == CANONICAL && node->len == 2 && node->text[0] == '-' && node->text[1] == '0')
            out_char(out, '0');
        else
            out_bytes(out, node->text, node->len);
        break;
    case J_FLOAT:
        if (mode == CANONICAL) {
            if (out_float(out, node) < 0)
                return -1;
        } else {
            out_bytes(out, node->text, node->len);
        }
        break;
    case J_STRING: out_string(out, node->text, node->len, node->plain); break;
    case J_ARRAY:
        out_char(out, '[');
        for (const Node *item = node->first; item != NULL; item = item->next) {
            if (item != node->first)
                out_char(out, ',');
            if (write_value(out, item, mode, arena) < 0)
                return -1;
        }
        out_char(out, ']');
        break;
    case J_OBJECT:
        return write_members(out, node, mode, arena);
    }
    return out->failed ? -1 : 0;
}

/* -- BLAKE2b (RFC 7693): ingest's content hash and deduplication key ------------------------- */
static const uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t blake2b_sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

typedef struct {
    uint64_t h[8];
    uint64_t t; /* bytes compressed so far (inputs here stay far below 2**64) */
    uint8_t block[128];
    size_t filled;
    size_t outlen;
} Blake2b;

static uint64_t rotr64(uint64_t x, int n)
{
    return (x >> n) | (x << (64 - n));
}

static uint64_t load64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t value;
    memcpy(&value, p, sizeof value);
    return value;
#else
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = (value << 8) | p[i];
    return value;
#endif
}

/* The compression function, its twelve rounds written out so that the state stays in registers. */
#define B2_G(a, b, c, d, x, y)          \
    do {                                \
        a = a + b + (x);                \
        d = rotr64(d ^ a, 32);          \
        c = c + d;                      \
        b = rotr64(b ^ c, 24);          \
        a = a + b + (y);                \
        d = rotr64(d ^ a, 16);          \
        c = c + d;                      \
        b = rotr64(b ^ c, 63);          \
    } while (0)

#define B2_ROUND(r)                                                              \
    do {                                                                         \
        B2_G(v0, v4, v8, v12, m[blake2b_sigma[r][0]], m[blake2b_sigma[r][1]]);   \
        B2_G(v1, v5, v9, v13, m[blake2b_sigma[r][2]], m[blake2b_sigma[r][3]]);   \
        B2_G(v2, v6, v10, v14, m[blake2b_sigma[r][4]], m[blake2b_sigma[r][5]]);  \
        B2_G(v3, v7, v11, v15, m[blake2b_sigma[r][6]], m[blake2b_sigma[r][7]]);  \
        B2_G(v0, v5, v10, v15, m[blake2b_sigma[r][8]], m[blake2b_sigma[r][9]]);  \
        B2_G(v1, v6, v11, v12, m[blake2b_sigma[r][10]], m[blake2b_sigma[r][11]]); \
        B2_G(v2, v7, v8, v13, m[blake2b_sigma[r][12]], m[blake2b_sigma[r][13]]);  \
        B2_G(v3, v4, v9, v14, m[blake2b_sigma[r][14]], m[blake2b_sigma[r][15]]);  \
    } while (0)

static void blake2b_compress(Blake2b *state, int last)
{
    uint64_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = load64(state->block + 8 * i);
    uint64_t v0 = state->h[0], v1 = state->h[1], v2 = state->h[2], v3 = state->h[3];
    uint64_t v4 = state->h[4], v5 = state->h[5], v6 = state->h[6], v7 = state->h[7];
    uint64_t v8 = blake2b_iv[0], v9 = blake2b_iv[1], v10 = blake2b_iv[2], v11 = blake2b_iv[3];
    uint64_t v12 = blake2b_iv[4] ^ state->t, v13 = blake2b_iv[5];
    uint64_t v14 = last ? ~blake2b_iv[6] : blake2b_iv[6], v15 = blake2b_iv[7];
    B2_ROUND(0);
    B2_ROUND(1);
    B2_ROUND(2);
    B2_ROUND(3);
    B2_ROUND(4);
    B2_ROUND(5);
    B2_ROUND(6);
    B2_ROUND(7);
    B2_ROUND(8);
    B2_ROUND(9);
    B2_ROUND(10);
    B2_ROUND(11);
    state->h[0] ^= v0 ^ v8;
    state->h[1] ^= v1 ^ v9;
    state->h[2] ^= v2 ^ v10;
    state->h[3] ^= v3 ^ v11;
    state->h[4] ^= v4 ^ v12;
    state->h[5] ^= v5 ^ v13;
    state->h[6] ^= v6 ^ v14;
    state->h[7] ^= v7 ^ v15;
}

static void blake2b_init(Blake2b *state, size_t outlen)
{
    for (int i = 0; i < 8; i++)
        state->h[i] = blake2b_iv[i];
    state->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen; /* no key, fanout 1, depth 1 */
    state->t = 0;
    state->filled = 0;
    state->outlen = outlen;
}

static void blake2b_update(Blake2b *state, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return;
    if (state->filled == 128) {
        state->t += 128;
        blake2b_compress(state, 0);
        state->filled = 0;
    }
    while (len > 0) {
        if (state->filled == 128) { /* keep the last block for blake2b_final */
            state->t += 128;
            blake2b_compress(state, 0);
            state->filled = 0;
        }
        size_t take = 128 - state->filled < len ? 128 - state->filled : len;
        memcpy(state->block + state->filled, p, take);
        state->filled += take;
        p += take;
        len -= take;
    }
}

static void blake2b_final(Blake2b *state, uint8_t *out)
{
    state->t += state->filled;
    memset(state->block + state->filled, 0, 128 - state->filled);
    blake2b_compress(state, 1);
    for (size_t i = 0; i < state->outlen; i++)
        out[i] = (uint8_t)(state->h[i / 8] >> (8 * (i % 8)));
}

/* The deduplication key of a release: (ocid, release id, date), or (ocid, content hash) when it
 * has no id; each part length-prefixed, hashed to a signed 64-bit integer. */
static void key_part(Blake2b *state, const char *text, size_t len)
{
    uint8_t size[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
    blake2b_update(state, size, 4);
    blake2b_update(state, text, len);
}

static int64_t release_key_of(const char *ocid, size_t ocid_len, const char *id, size_t id_len,
                              const char *date, size_t date_len, const char *digest)
{
    Blake2b state;
    blake2b_init(&state, 8);
    if (id != NULL) {
        blake2b_update(&state, "i", 1);
        key_part(&state, ocid, ocid_len);
        key_part(&state, id, id_len);
        key_part(&state, date, date_len);
    } else {
        blake2b_update(&state, "h", 1);
        key_part(&state, ocid, ocid_len);
        key_part(&state, digest, 32);
    }
    uint8_t out[8];
    blake2b_final(&state, out);
    uint64_t value = load64(out);
    int64_t key;
    memcpy(&key, &value, sizeof key);
    return key;
}

PyDoc_STRVAR(release_key_doc,
"release_key(ocid: str, release_id: str | None, date: str, digest: str) -> int\n\n"
"The deduplication key of a release (see ingest._release_key).");

static PyObject *release_key(PyObject *self, PyObject *args)
{
    (void)self;
    const char *ocid, *id, *date, *digest;
    Py_ssize_t ocid_len, id_len, date_len, digest_len;
    if (!PyArg_ParseTuple(args, "s#z#s#s#", &ocid, &ocid_len, &id, &id_len, &date, &date_len,
                          &digest, &digest_len))
        return NULL;
    if (digest_len != 32 || ocid_len > UINT32_MAX || id_len > UINT32_MAX || date_len > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a digest is 32 hexadecimal characters");
        return NULL;
    }
    return PyLong_FromLongLong(release_key_of(ocid, (size_t)ocid_len, id, (size_t)id_len, date,
                                              (size_t)date_len, digest));
}

PyDoc_STRVAR(blake2b_doc,
"blake2b(data: bytes, digest_size: int) -> bytes\n\n"
"BLAKE2b without a key (for tests: the same as hashlib.blake2b).");

static PyObject *blake2b_digest(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer data;
    int size;
    if (!PyArg_ParseTuple(args, "y*i", &data, &size))
        return NULL;
    if (size < 1 || size > 64) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "digest_size must be 1 to 64");
        return NULL;
    }
    Blake2b state;
    uint8_t out[64];
    blake2b_init(&state, (size_t)size);
    blake2b_update(&state, data.buf, (size_t)data.len);
    blake2b_final(&state, out);
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, size);
}

/* -- dates: `dates.parse_datetime` for the usual forms ---------------------------------------- */
static int digits(const char *text, int count, int *value)
{
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        result = result * 10 + (text[i] - '0');
    }
    *value = result;
    return 0;
}

static int64_t days_from_civil(int year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Microseconds since the epoch (UTC) of YYYY-MM-DD[THH:MM[:SS[.f{1,6}]]][Z|±HH:MM], a naive
 * time read as UTC and a year outside 1990-2100 refused, as `dates.parse_datetime` does. Any
 * other form returns -1, for Python to decide. */
static int parse_date(const char *text, size_t len, int64_t *micros)
{
    int year, month, day, hour = 0, minute = 0, second = 0, fraction = 0, offset = 0;
    if (len < 10 || digits(text, 4, &year) < 0 || text[4] != '-' || digits(text + 5, 2, &month) < 0 ||
        text[7] != '-' || digits(text + 8, 2, &day) < 0)
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || year < 1990 ||
        year > 2100)
        return -1;
    size_t i = 10;
    if (i < len && text[i] == 'T') {
        if (len - i < 6 || digits(text + i + 1, 2, &hour) < 0 || text[i + 3] != ':' ||
            digits(text + i + 4, 2, &minute) < 0)
            return -1;
        i += 6;
        if (i < len && text[i] == ':') {
            if (len - i < 3 || digits(text + i + 1, 2, &second) < 0)
                return -1;
            i += 3;
            if (i < len && text[i] == '.') {
                int count = 0;
                i++;
                while (i < len && text[i] >= '0' && text[i] <= '9' && count < 7) {
                    fraction = fraction * 10 + (text[i] - '0');
                    count++;
                    i++;
                }
                if (count == 0 || count > 6)
                    return -1;
                for (; count < 6; count++)
                    fraction *= 10;
            }
        }
        if (hour > 23 || minute > 59 || second > 59)
            return -1;
    }
    if (i < len) {
        if (text[i] == 'Z' && i + 1 == len) {
            i++;
        } else if ((text[i] == '+' || text[i] == '-') && len - i == 6 && text[i + 3] == ':') {
            int offset_hours, offset_minutes;
            if (digits(text + i + 1, 2, &offset_hours) < 0 || digits(text + i + 4, 2, &offset_minutes) < 0 ||
                offset_hours > 23 || offset_minutes > 59)
                return -1;
            offset = (offset_hours * 60 + offset_minutes) * (text[i] == '-' ? -1 : 1);
            i += 6;
        } else {
            return -1;
        }
    }
    if (i != len)
        return -1;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                      (int64_t)offset * 60;
    *micros = seconds * 1000000 + fraction;
    return 0;
}

PyDoc_STRVAR(date_micros_doc,
"date_micros(text: str) -> int | None\n\n"
"dates.parse_micros(text) for the forms this module reads itself; None for the others (for tests).");

static PyObject *date_micros(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &len);
    if (text == NULL)
        return NULL;
    int64_t micros;
    if (parse_date(text, (size_t)len, &micros) < 0)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(micros);
}

/* -- examining a release at ingest ------------------------------------------------------------ */
static int is_key_field(const Node *node)
{
    return KEY_IS(node, "ocid") || KEY_IS(node, "id") || KEY_IS(node, "date") || KEY_IS(node, "tag");
}

static const Node **sorted_members(const Node *object, Arena *arena, uint32_t *count)
{
    const Node **members = arena_alloc(arena, sizeof(Node *) * ((size_t)object->len + 1));
    if (members == NULL)
        return NULL;
    uint32_t n = 0;
    for (const Node *child = object->first; child != NULL; child = child->next)
        members[n++] = child;
    sort_members(members, n);
    for (uint32_t i = 1; i < n; i++)
        if (key_order(&members[i - 1], &members[i]) == 0)
            return NULL;
    *count = n;
    return members;
}

/* An id as ingest compares ids: str() of the value. 0 on success, -1 for kinds left to Python. */
static int id_text(const Node *id, const char **text, uint32_t *len)
{
    switch (id->type) {
    case J_STRING:
        *text = id->text;
        *len = id->len;
        return 0;
    case J_INT:
        if (id->len == 2 && id->text[0] == '-' && id->text[1] == '0') {
            *text = "0";
            *len = 1;
        } else {
            *text = id->text;
            *len = id->len;
        }
        return 0;
    case J_TRUE:
        *text = "True";
        *len = 4;
        return 0;
    case J_FALSE:
        *text = "False";
        *len = 5;
        return 0;
    case J_NULL:
        *text = "None";
        *len = 4;
        return 0;
    default:
        return -1;
    }
}

/* A text to compare, with its kind (for party ids, where "1" and 1 differ). */
typedef struct {
    const char *text;
    uint32_t len;
    uint8_t kind;
} Text;

static int text_order(const void *left, const void *right)
{
    const Text *a = left, *b = right;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    uint32_t shorter = a->len < b->len ? a->len : b->len;
    int order = memcmp(a->text, b->text, shorter);
    if (order != 0)
        return order;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Whether sorting the texts brings two equal ones together (sorting keeps hostile input from
 * costing quadratic time). */
static int any_repeated(Text *texts, uint32_t count)
{
    qsort(texts, count, sizeof(Text), text_order);
    for (uint32_t i = 1; i < count; i++)
        if (text_order(&texts[i - 1], &texts[i]) == 0)
            return 1;
    return 0;
}

/* `ingest._has_repeated_ids`: 1 if an array of objects repeats an id, 0 if not, -1 to refuse. */
static int has_repeated_ids(const Node *object, Arena *arena)
{
    for (const Node *child = object->first; child != NULL; child = child->next) {
        if (child->type == J_OBJECT) {
            int found = has_repeated_ids(child, arena);
            if (found != 0)
                return found;
        } else if (child->type == J_ARRAY && child->first != NULL && child->first->type == J_OBJECT) {
            Text *texts = arena_alloc(arena, sizeof(Text) * child->len);
            if (texts == NULL)
                return -1;
            uint32_t count = 0;
            for (const Node *item = child->first; item != NULL; item = item->next) {
                if (item->type != J_OBJECT)
                    return 1;
                const Node *id = MEMBER(item, "id");
                if (id != NULL) {
                    if (id_text(id, &texts[count].text, &texts[count].len) < 0)
                        return -1;
                    texts[count++].kind = 0; /* str() makes "1" and 1 one id */
                }
                int found = has_repeated_ids(item, arena);
                if (found != 0)
                    return found;
            }
            if (any_repeated(texts, count))
                return 1;
        }
    }
    return 0;
}

/* 0 if the parties have distinct string or integer ids; -1 for anything else (Python decides). */
static int check_parties(const Node *release, Arena *arena)
{
    const Node *parties = MEMBER(release, "parties");
    if (parties == NULL || parties->type == J_NULL)
        return 0;
    if (parties->type != J_ARRAY)
        return -1;
    Text *ids = arena_alloc(arena, sizeof(Text) * (parties->len + 1));
    if (ids == NULL)
        return -1;
    uint32_t count = 0;
    for (const Node *party = parties->first; party != NULL; party = party->next) {
        if (party->type != J_OBJECT)
            return -1;
        const Node *id = MEMBER(party, "id");
        if (id == NULL || id->type == J_NULL)
            continue;
        if (id->type != J_STRING && id->type != J_INT)
            return -1;
        if (id->type == J_INT && id->len == 2 && id->text[0] == '-')
            return -1; /* -0 and 0 are one id */
        ids[count].text = id->text;
        ids[count].len = id->len;
        ids[count++].kind = id->type; /* repr() tells "1" from 1 */
    }
    return any_repeated(ids, count) ? -1 : 0;
}

/* Whether a block (tender, award, contract) may be an object holding the given keys, null or
 * absent: 1 if so, 0 if it holds one of them, -1 if it is of another kind. */
static int block_without(const Node *block, const char *const *keys)
{
    if (block == NULL || block->type == J_NULL)
        return 1;
    if (block->type != J_OBJECT)
        return -1;
    for (const char *const *key = keys; *key != NULL; key++) {
        const Node *found = member(block, *key, (uint32_t)strlen(*key));
        if (found != NULL && (found->type != J_NULL || strcmp(*key, "amendment") == 0))
            return 0;
    }
    return 1;
}

/* Whether `upgrade.upgrade_release` leaves this OCDS 1.0 release as it is: it has none of the
 * 1.0 fields the upgrade moves or renames (organisations, `amendment`, transactions). */
static int upgrade_changes_nothing(const Node *release)
{
    static const char *const top[] = {"buyer", NULL};
    static const char *const tender_keys[] = {"procuringEntity", "tenderers", "amendment", NULL};
    static const char *const award_keys[] = {"suppliers", "amendment", NULL};
    static const char *const contract_keys[] = {"amendment", NULL};
    static const char *const implementation_keys[] = {"transactions", NULL};
    if (MEMBER(release, "parties") != NULL || block_without(release, top) != 1 ||
        block_without(MEMBER(release, "tender"), tender_keys) != 1)
        return 0;
    const Node *awards = MEMBER(release, "awards"), *contracts = MEMBER(release, "contracts");
    if ((awards != NULL && awards->type != J_NULL && awards->type != J_ARRAY) ||
        (contracts != NULL && contracts->type != J_NULL && contracts->type != J_ARRAY))
        return 0;
    for (const Node *award = awards ? awards->first : NULL; award != NULL; award = award->next)
        if (award->type != J_OBJECT || block_without(award, award_keys) != 1)
            return 0;
    for (const Node *contract = contracts ? contracts->first : NULL; contract != NULL;
         contract = contract->next)
        if (contract->type != J_OBJECT || block_without(contract, contract_keys) != 1 ||
            block_without(MEMBER(contract, "implementation"), implementation_keys) != 1)
            return 0;
    return 1;
}

static int contains(const char *text, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = text; (size_t)(text + len - p) >= n; p++) {
        p = memchr(p, needle[0], (size_t)(text + len - p));
        if (p == NULL || (size_t)(text + len - p) < n)
            return 0;
        if (memcmp(p, needle, n) == 0)
            return 1;
    }
    return 0;
}

static int has_repeated_keys(const Node *object, Arena *arena)
{
    uint32_t count;
    return sorted_members(object, arena, &count) == NULL;
}

/* What ingest keeps of one release, read by `examine`. */
typedef struct {
    const Node *ocid, *id, *date, *tag;
    int64_t date_micros;
    int simple;
    const char *version;
    char digest[33]; /* blake2b-128 of the body and key fields, in hexadecimal */
    int64_t key;
} Release;

/* `ingest._examine` of one plain release: 0 with its body written to `body`, or -1 to leave the
 * release (and so its line) to Python. */
static int examine(const Node *release, const char *version, Arena *arena, Out *body, Out *scratch,
                   Release *found)
{
    if (release->type != J_OBJECT)
        return -1;
    if (strcmp(version, "1.0") == 0 && !upgrade_changes_nothing(release))
        return -1;
    const Node *ocid = MEMBER(release, "ocid"), *id = MEMBER(release, "id");
    const Node *date = MEMBER(release, "date"), *tag = MEMBER(release, "tag");
    if (ocid == NULL || ocid->type != J_STRING || date == NULL || date->type != J_STRING)
        return -1;
    int printable = 0; /* a character str.strip() keeps, so the ocid is not blank */
    for (uint32_t i = 0; i < ocid->len && !printable; i++)
        printable = ocid->text[i] > ' ' && ocid->text[i] < 0x7f;
    if (!printable || (id != NULL && id->type != J_STRING))
        return -1;
    if (parse_date(date->text, date->len, &found->date_micros) < 0)
        return -1;
    if (tag != NULL) {
        if (tag->type != J_ARRAY)
            return -1;
        for (const Node *item = tag->first; item != NULL; item = item->next)
            if (item->type != J_STRING)
                return -1;
    }
    uint32_t count;
    const Node **members = sorted_members(release, arena, &count); /* NULL: a key repeats */
    if (members == NULL || check_parties(release, arena) < 0)
        return -1;
    int repeated = has_repeated_ids(release, arena);
    if (repeated < 0)
        return -1;

    /* The body: the release without its key fields, keys sorted at every level. */
    size_t start = body->len;
    out_char(body, '{');
    for (uint32_t i = 0, written = 0; i < count; i++) {
        if (is_key_field(members[i]))
            continue;
        if (written++)
            out_char(body, ',');
        out_string(body, members[i]->key, members[i]->key_len, members[i]->key_plain);
        out_char(body, ':');
        if (write_value(body, members[i], CANONICAL, arena) < 0)
            return -1;
    }
    out_char(body, '}');
    if (body->failed)
        return -1;
    const char *text = body->data + start;
    size_t len = body->len - start;

    /* The content hash: the body, a newline, then orjson.dumps([ocid, id, date, tag]). */
    scratch->len = 0;
    out_char(scratch, '[');
    out_string(scratch, ocid->text, ocid->len, ocid->plain);
    out_char(scratch, ',');
    if (id)
        out_string(scratch, id->text, id->len, id->plain);
    else
        out_bytes(scratch, "null", 4);
    out_char(scratch, ',');
    out_string(scratch, date->text, date->len, date->plain);
    out_char(scratch, ',');
    if (tag == NULL || write_value(scratch, tag, AS_IS, arena) < 0)
        out_bytes(scratch, "null", 4);
    out_char(scratch, ']');
    if (scratch->failed)
        return -1;
    Blake2b state;
    uint8_t digest[16];
    blake2b_init(&state, 16);
    blake2b_update(&state, text, len);
    blake2b_update(&state, "\n", 1);
    blake2b_update(&state, scratch->data, scratch->len);
    blake2b_final(&state, digest);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        found->digest[2 * i] = hex[digest[i] >> 4];
        found->digest[2 * i + 1] = hex[digest[i] & 15];
    }
    found->digest[32] = '\0';

    found->ocid = ocid;
    found->id = id;
    found->date = date;
    found->tag = tag;
    found->version = version;
    found->simple = !repeated && !contains(text, len, "null") && !contains(text, len, "{}") &&
                    !contains(text, len, "[]");
    found->key = release_key_of(ocid->text, ocid->len, id ? id->text : NULL, id ? id->len : 0, date->text,
                                date->len, found->digest);
    return 0;
}

/* -- the columns of a block (`ingest.BLOCK_SCHEMA`), as Arrow buffers -------------------------- */
typedef struct {
    Out data;     /* values, or the bytes of strings */
    Out offsets;  /* int32 offsets of strings and lists */
    Out validity; /* one bit a row */
    int64_t rows, nulls;
} Column;

typedef struct {
    int64_t rows, nulls;
    size_t data, offsets;
} Mark;

static int column_init(Column *column, int offsets)
{
    memset(column, 0, sizeof(Column));
    if (offsets) {
        int32_t zero = 0;
        out_bytes(&column->offsets, (const char *)&zero, sizeof zero);
    }
    return column->offsets.failed ? -1 : 0;
}

static void column_free(Column *column)
{
    free(column->data.data);
    free(column->offsets.data);
    free(column->validity.data);
}

static Mark column_mark(const Column *column)
{
    Mark mark = {column->rows, column->nulls, column->data.len, column->offsets.len};
    return mark;
}

static void column_rollback(Column *column, Mark mark)
{
    column->rows = mark.rows;
    column->nulls = mark.nulls;
    column->data.len = mark.data;
    column->offsets.len = mark.offsets;
}

static void column_valid(Column *column, int valid)
{
    int64_t row = column->rows++;
    size_t byte = (size_t)(row / 8);
    if (byte >= column->validity.len) {
        if (out_reserve(&column->validity, 1) < 0)
            return;
        column->validity.data[column->validity.len++] = 0;
    }
    unsigned char bit = (unsigned char)(1u << (row % 8));
    if (valid)
        column->validity.data[byte] |= bit;
    else
        column->validity.data[byte] &= (unsigned char)~bit;
    if (!valid)
        column->nulls++;
}

static void column_offset(Column *column)
{
    if (column->data.len > INT32_MAX) {
        column->data.failed = 1;
        return;
    }
    int32_t offset = (int32_t)column->data.len;
    out_bytes(&column->offsets, (const char *)&offset, sizeof offset);
}

static void column_text(Column *column, const char *text, size_t len)
{
    out_bytes(&column->data, text, len);
    column_offset(column);
    column_valid(column, 1);
}

static void column_null_text(Column *column)
{
    column_offset(column);
    column_valid(column, 0);
}

static void column_int(Column *column, int64_t value, int valid)
{
    out_bytes(&column->data, (const char *)&value, sizeof value);
    column_valid(column, valid);
}

static void column_bool(Column *column, int value)
{
    int64_t row = column->rows;
    column_valid(column, 1);
    size_t byte = (size_t)(row / 8);
    if (byte >= column->data.len) {
        if (out_reserve(&column->data, 1) < 0)
            return;
        column->data.data[column->data.len++] = 0;
    }
    unsigned char bit = (unsigned char)(1u << (row % 8));
    if (value)
        column->data.data[byte] |= bit;
    else
        column->data.data[byte] &= (unsigned char)~bit;
}

static int column_failed(const Column *column)
{
    return column->data.failed || column->offsets.failed || column->validity.failed;
}

enum {
    C_OCID, C_RELEASE_ID, C_DATE, C_DATE_UTC, C_TAG, C_TAG_ITEMS, C_BODY, C_SIMPLE, C_HASH,
    C_VERSION, C_SOURCE_FILE, C_POSITION, C_LINE, C_BYTE_OFFSET, C_ITEM, C_VALUE, C_KEY, C_RAW_ID,
    N_COLUMNS
};

/* Each column's name in BLOCK_SCHEMA, or NULL for the tag's items (the child of `tag`). */
static const char *const column_names[N_COLUMNS] = {
    "ocid", "release_id", "date", "date_utc", "tag", NULL, "body", "simple", "content_hash",
    "ocds_version", "source_file", "position", "line", "byte_offset", "item", "value", "key", "raw_id",
};

static const int column_has_offsets[N_COLUMNS] = {
    1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1,
};

static void add_row(Column *columns, const Release *release, const char *body, size_t body_len,
                    const char *label, size_t label_len, int64_t line, int64_t offset, int64_t item,
                    int64_t value, Out *scratch)
{
    column_text(&columns[C_OCID], release->ocid->text, release->ocid->len);
    if (release->id) {
        column_text(&columns[C_RELEASE_ID], release->id->text, release->id->len);
        scratch->len = 0;
        out_string(scratch, release->id->text, release->id->len, release->id->plain);
        column_text(&columns[C_RAW_ID], scratch->data, scratch->len);
    } else {
        column_null_text(&columns[C_RELEASE_ID]);
        column_null_text(&columns[C_RAW_ID]);
    }
    column_text(&columns[C_DATE], release->date->text, release->date->len);
    column_int(&columns[C_DATE_UTC], release->date_micros, 1);
    if (release->tag) {
        for (const Node *tag = release->tag->first; tag != NULL; tag = tag->next)
            column_text(&columns[C_TAG_ITEMS], tag->text, tag->len);
        Column *tags = &columns[C_TAG];
        if (columns[C_TAG_ITEMS].rows > INT32_MAX) {
            tags->offsets.failed = 1;
            return;
        }
        int32_t end = (int32_t)columns[C_TAG_ITEMS].rows;
        out_bytes(&tags->offsets, (const char *)&end, sizeof end);
        column_valid(tags, 1);
    } else {
        Column *tags = &columns[C_TAG];
        int32_t end = (int32_t)columns[C_TAG_ITEMS].rows;
        out_bytes(&tags->offsets, (const char *)&end, sizeof end);
        column_valid(tags, 0);
    }
    column_text(&columns[C_BODY], body, body_len);
    column_bool(&columns[C_SIMPLE], release->simple);
    column_text(&columns[C_HASH], release->digest, 32);
    column_text(&columns[C_VERSION], release->version, 3);
    column_text(&columns[C_SOURCE_FILE], label, label_len);
    char where[96];
    int n = item >= 0 ? snprintf(where, sizeof where, ", line %lld, byte %lld, item %lld", (long long)line,
                                 (long long)offset, (long long)item)
                      : snprintf(where, sizeof where, ", line %lld, byte %lld", (long long)line,
                                 (long long)offset);
    scratch->len = 0;
    out_bytes(scratch, label, label_len);
    out_bytes(scratch, where, (size_t)n);
    column_text(&columns[C_POSITION], scratch->data, scratch->len);
    column_int(&columns[C_LINE], line, 1);
    column_int(&columns[C_BYTE_OFFSET], offset, 1);
    column_int(&columns[C_ITEM], item >= 0 ? item : 0, item >= 0);
    column_int(&columns[C_VALUE], value, 1);
    column_int(&columns[C_KEY], release->key, 1);
}

/* Leave one release of a package to Python: (value, line, offset, the release's JSON, item, version)
 * added to `left`. */
static int leave_item(PyObject *left, int64_t value, int64_t line, int64_t offset, const Node *release,
                      int64_t item, const char *version)
{
    PyObject *entry = Py_BuildValue("(LLLy#Ls)", (long long)value, (long long)line, (long long)offset,
                                    release->text, (Py_ssize_t)release->span, (long long)item, version);
    int result = entry == NULL ? -1 : PyList_Append(left, entry);
    Py_XDECREF(entry);
    return result;
}

/* The releases of one stripped line, added to the columns: 0 when read here (a package's releases
 * this module does not read itself are added to `left`), -1 (columns untouched) to leave the whole
 * line to Python. */
static int examine_value(Column *columns, PyObject *left, const char *text, size_t len, const char *label,
                         size_t label_len, int64_t line, int64_t offset, int64_t value, Out *body,
                         Out *scratch)
{
    Arena arena = {NULL};
    int result = -1;
    Node *root = parse_document(&arena, text, (Py_ssize_t)len);
    if (root == NULL || root->type != J_OBJECT || MEMBER(root, "records") != NULL)
        goto done;
    const Node *releases = MEMBER(root, "releases");
    const char *version;
    const Node *single = NULL;
    if (releases == NULL) {
        /* A release on its own: OCDS 1.1 if it has parties, else 1.0 (`upgrade.minor_version`). */
        version = MEMBER(root, "parties") != NULL ? "1.1" : "1.0";
        single = root;
    } else {
        /* A release package (a record has an ocid beside its releases); no version means 1.0. */
        const Node *stated = MEMBER(root, "version");
        if (stated == NULL || (stated->type == J_STRING && stated->len == 3 && memcmp(stated->text, "1.0", 3) == 0))
            version = "1.0";
        else if (stated->type == J_STRING && stated->len == 3 && memcmp(stated->text, "1.1", 3) == 0)
            version = "1.1";
        else
            goto done;
        if (MEMBER(root, "ocid") != NULL || releases->type != J_ARRAY ||
            has_repeated_keys(root, &arena)) /* a release on its own: `examine` checks it */
            goto done;
    }
    Mark marks[N_COLUMNS];
    for (int c = 0; c < N_COLUMNS; c++)
        marks[c] = column_mark(&columns[c]);
    Py_ssize_t left_before = PyList_GET_SIZE(left);
    int64_t item = single ? -1 : 0;
    for (const Node *release = single ? single : releases->first; release != NULL;
         release = single ? NULL : release->next, item++) {
        Release found;
        body->len = 0;
        if (examine(release, version, &arena, body, scratch, &found) == 0) {
            /* read here */
        } else if (single == NULL && release->type == J_OBJECT && release->span > 0 &&
                   leave_item(left, value, line, offset, release, item, version) == 0) {
            continue; /* one release of a package: only it goes to Python */
        } else {
            for (int c = 0; c < N_COLUMNS; c++)
                column_rollback(&columns[c], marks[c]);
            PyList_SetSlice(left, left_before, PyList_GET_SIZE(left), NULL);
            goto done;
        }
        add_row(columns, &found, body->data, body->len, label, label_len, line, offset, item, value,
                scratch);
    }
    result = 0;
done:
    arena_free(&arena);
    return result;
}

/* Memory handed to Python without a copy: a read-only buffer that frees it when released. */
typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t size;
} Buffer;

static int buffer_get(PyObject *self, Py_buffer *view, int flags)
{
    Buffer *buffer = (Buffer *)self;
    return PyBuffer_FillInfo(view, self, buffer->data ? buffer->data : (char *)"", buffer->size, 1, flags);
}

static void buffer_dealloc(PyObject *self)
{
    free(((Buffer *)self)->data);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs buffer_procs = {buffer_get, NULL};

static PyTypeObject BufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mutualise.pipeline._native.Buffer",
    .tp_basicsize = sizeof(Buffer),
    .tp_dealloc = buffer_dealloc,
    .tp_as_buffer = &buffer_procs,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes written by the C module, read through the buffer protocol.",
};

/* The bytes of `out` as a Buffer, which now owns them (`out` is left empty). */
static PyObject *take_buffer(Out *out)
{
    Buffer *buffer = PyObject_New(Buffer, &BufferType);
    if (buffer == NULL)
        return NULL;
    char *data = out->data;
    if (data != NULL && out->len < out->capacity) {
        char *smaller = realloc(data, out->len ? out->len : 1); /* give back what growth left over */
        if (smaller != NULL)
            data = smaller;
    }
    buffer->data = data;
    buffer->size = (Py_ssize_t)out->len;
    out->data = NULL;
    out->len = out->capacity = 0;
    return (PyObject *)buffer;
}

static PyObject *column_buffers(Column *column)
{
    PyObject *validity = column->nulls ? take_buffer(&column->validity) : Py_NewRef(Py_None);
    PyObject *offsets = column->offsets.len ? take_buffer(&column->offsets) : Py_NewRef(Py_None);
    PyObject *data = take_buffer(&column->data);
    PyObject *result = NULL;
    if (validity && offsets && data)
        result = Py_BuildValue("(LLOOO)", (long long)column->rows, (long long)column->nulls, validity,
                               offsets, data);
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    return result;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\x0b' || c == '\x0c';
}

PyDoc_STRVAR(examine_block_doc,
"examine_block(data: bytes, label: str, start: int, first_line: int)\n"
"    -> (values, columns, left)\n\n"
"`ingest.examine_block` for the values this module reads itself: every non-empty line of a block\n"
"of JSON Lines is a value; `columns` maps BLOCK_SCHEMA's names (and 'tag.item') to Arrow buffers\n"
"(rows, nulls, validity, offsets, data) of the releases read here, and `left` lists what is left\n"
"to Python as (value number, line number, byte offset, JSON, item, version): a whole stripped line\n"
"(item and version None), or one release of a package (its item number and the package's version).");

static PyObject *examine_block(PyObject *self, PyObject *args)
{
    (void)self;
    const char *data, *label;
    Py_ssize_t size, label_len;
    long long start, first_line;
    if (!PyArg_ParseTuple(args, "y#s#LL", &data, &size, &label, &label_len, &start, &first_line))
        return NULL;
    Column columns[N_COLUMNS];
    Out body = {NULL, 0, 0, 0}, scratch = {NULL, 0, 0, 0};
    PyObject *left = PyList_New(0), *result = NULL, *names = NULL;
    int ready = left != NULL;
    for (int c = 0; c < N_COLUMNS; c++)
        if (column_init(&columns[c], column_has_offsets[c]) < 0)
            ready = 0;
    /* The bodies take about as many bytes as the block: room for them now, not by doubling. */
    if (ready && out_reserve(&columns[C_BODY].data, (size_t)size) < 0)
        ready = 0;
    int64_t value = 0, line = first_line;
    const char *p = data, *end = data + size;
    while (ready && p < end) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = newline ? newline : end;
        const char *a = p, *b = line_end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a < b) {
            int64_t offset = start + (p - data);
            if (examine_value(columns, left, a, (size_t)(b - a), label, (size_t)label_len, line, offset,
                              value, &body, &scratch) < 0) {
                if (PyErr_Occurred())
                    ready = 0;
                PyObject *entry = Py_BuildValue("(LLLy#OO)", (long long)value, (long long)line,
                                                (long long)offset, a, (Py_ssize_t)(b - a), Py_None, Py_None);
                if (entry == NULL || PyList_Append(left, entry) < 0)
                    ready = 0;
                Py_XDECREF(entry);
            }
            value++;
        }
        line++;
        p = newline ? newline + 1 : end;
    }
    for (int c = 0; c < N_COLUMNS && ready; c++)
        if (column_failed(&columns[c]))
            ready = 0;
    if (ready && (body.failed || scratch.failed))
        ready = 0;
    if (ready) {
        names = PyDict_New();
        for (int c = 0; names != NULL && c < N_COLUMNS; c++) {
            PyObject *buffers = column_buffers(&columns[c]);
            if (buffers == NULL ||
                PyDict_SetItemString(names, column_names[c] ? column_names[c] : "tag.item", buffers) < 0) {
                Py_XDECREF(buffers);
                Py_CLEAR(names);
                break;
            }
            Py_DECREF(buffers);
        }
        if (names != NULL)
            result = Py_BuildValue("(LOO)", (long long)value, names, left);
    }
    if (result == NULL && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(names);
    Py_XDECREF(left);
    for (int c = 0; c < N_COLUMNS; c++)
        column_free(&columns[c]);
    free(body.data);
    free(scratch.data);
    return result;
}

PyDoc_STRVAR(canonical_doc,
"canonical(data: bytes) -> bytes | None\n\n"
"orjson.dumps(orjson.loads(data), option=OPT_SORT_KEYS), or None where this module would leave\n"
"the value to Python (for tests: the two must never disagree).");

static PyObject *canonical(PyObject *self, PyObject *arg)
{
    (void)self;
    char *data;
    Py_ssize_t size;
    if (PyBytes_AsStringAndSize(arg, &data, &size) < 0)
        return NULL;
    Arena arena = {NULL};
    Out out = {NULL, 0, 0, 0};
    Node *root = parse_document(&arena, data, size);
    PyObject *result = NULL;
    if (root != NULL && write_value(&out, root, CANONICAL, &arena) == 0)
        result = PyBytes_FromStringAndSize(out.data, (Py_ssize_t)out.len);
    else if (!PyErr_Occurred())
        result = Py_NewRef(Py_None);
    arena_free(&arena);
    free(out.data);
    return result;
}

/* -- merge plans ------------------------------------------------------------------------------ */
typedef struct Plan {
    char **omit, **whole, **child_keys;
    uint32_t *omit_len, *whole_len, *child_len;
    struct Plan **children;
    Py_ssize_t n_omit, n_whole, n_children;
} Plan;

static const Plan EMPTY_PLAN = {0};

static void plan_free(Plan *plan)
{
    if (plan == NULL || plan == &EMPTY_PLAN)
        return;
    for (Py_ssize_t i = 0; i < plan->n_omit; i++)
        free(plan->omit[i]);
    for (Py_ssize_t i = 0; i < plan->n_whole; i++)
        free(plan->whole[i]);
    for (Py_ssize_t i = 0; i < plan->n_children; i++) {
        free(plan->child_keys[i]);
        plan_free(plan->children[i]);
    }
    free(plan->omit);
    free(plan->whole);
    free(plan->child_keys);
    free(plan->omit_len);
    free(plan->whole_len);
    free(plan->child_len);
    free(plan->children);
    free(plan);
}

static int copy_key(PyObject *key, char **text, uint32_t *len)
{
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(key, &size);
    if (utf8 == NULL)
        return -1;
    if (size > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "key too long");
        return -1;
    }
    *text = malloc((size_t)size + 1);
    if (*text == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*text, utf8, (size_t)size + 1);
    *len = (uint32_t)size;
    return 0;
}

static int copy_keys(PyObject *sequence, char ***texts, uint32_t **lengths, Py_ssize_t *count)
{
    PyObject *items = PySequence_Fast(sequence, "plan keys must be a sequence");
    if (items == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    *texts = calloc((size_t)n + 1, sizeof(char *));
    *lengths = calloc((size_t)n + 1, sizeof(uint32_t));
    if (*texts == NULL || *lengths == NULL) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (copy_key(PySequence_Fast_GET_ITEM(items, i), &(*texts)[i], &(*lengths)[i]) < 0) {
            Py_DECREF(items);
            return -1;
        }
        *count = i + 1;
    }
    Py_DECREF(items);
    return 0;
}

/* A plan from (omit keys, whole keys, ((key, plan), ...)). */
static Plan *plan_from(PyObject *spec, int depth)
{
    if (depth > MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "merge plan nested too deeply");
        return NULL;
    }
    PyObject *omit, *whole, *children;
    if (!PyArg_ParseTuple(spec, "OOO", &omit, &whole, &children))
        return NULL;
    Plan *plan = calloc(1, sizeof(Plan));
    if (plan == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (copy_keys(omit, &plan->omit, &plan->omit_len, &plan->n_omit) < 0 ||
        copy_keys(whole, &plan->whole, &plan->whole_len, &plan->n_whole) < 0) {
        plan_free(plan);
        return NULL;
    }
    PyObject *items = PySequence_Fast(children, "plan children must be a sequence");
    if (items == NULL) {
        plan_free(plan);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    plan->child_keys = calloc((size_t)n + 1, sizeof(char *));
    plan->child_len = calloc((size_t)n + 1, sizeof(uint32_t));
    plan->children = calloc((size_t)n + 1, sizeof(Plan *));
    if (plan->child_keys == NULL || plan->child_len == NULL || plan->children == NULL) {
        Py_DECREF(items);
        plan_free(plan);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key, *sub;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, i), "OO", &key, &sub) ||
            copy_key(key, &plan->child_keys[i], &plan->child_len[i]) < 0 ||
            (plan->children[i] = plan_from(sub, depth + 1)) == NULL) {
            plan->n_children = i + 1;
            Py_DECREF(items);
            plan_free(plan);
            return NULL;
        }
        plan->n_children = i + 1;
    }
    Py_DECREF(items);
    return plan;
}

static int in_keys(char **keys, const uint32_t *lengths, Py_ssize_t count, const char *key, uint32_t len)
{
    for (Py_ssize_t i = 0; i < count; i++)
        if (lengths[i] == len && memcmp(keys[i], key, len) == 0)
            return 1;
    return 0;
}

static const Plan *plan_child(const Plan *plan, const char *key, uint32_t len)
{
    for (Py_ssize_t i = 0; i < plan->n_children; i++)
        if (plan->child_len[i] == len && memcmp(plan->child_keys[i], key, len) == 0)
            return plan->children[i];
    return &EMPTY_PLAN;
}

static void plan_capsule_free(PyObject *capsule)
{
    plan_free(PyCapsule_GetPointer(capsule, "mutualise.merge_plan"));
}

PyDoc_STRVAR(make_plan_doc,
"make_plan(spec) -> capsule\n\n"
"A merge plan for compile_sorted, from (omit keys, whole keys, ((key, spec), ...)).");

static PyObject *make_plan(PyObject *self, PyObject *spec)
{
    (void)self;
    Plan *plan = plan_from(spec, 0);
    if (plan == NULL)
        return NULL;
    PyObject *capsule = PyCapsule_New(plan, "mutualise.merge_plan", plan_capsule_free);
    if (capsule == NULL)
        plan_free(plan);
    return capsule;
}

/* -- merging (merge.Merger.compiled, without the lazy path) ----------------------------------- */
enum { M_LEAF, M_OBJECT, M_ARRAY };
enum { ID_NONE, ID_STRING, ID_INT, ID_NULL }; /* ID_NONE: an object without id matches nothing */

typedef struct Entry Entry;

#define INDEX_FROM 16 /* entries a container holds before it gets a hash index */

typedef struct Merged {
    uint8_t kind;
    uint8_t has_leaf; /* known to hold a leaf somewhere below (never becomes false again) */
    const Node *leaf;
    Entry *first, *last;
    Entry **index; /* open addressing over the entries, once there are INDEX_FROM of them */
    uint32_t count, index_size;
} Merged;

struct Entry {
    Entry *next;
    const char *key; /* a member's key, or an array item's id */
    uint32_t key_len;
    uint8_t key_plain;
    uint8_t id_kind;
    uint64_t hash;
    Merged *value;
};

typedef struct {
    Arena *arena;
    int failed;
} Merge;

static Merged *new_merged(Merge *m, uint8_t kind, const Node *leaf)
{
    Merged *node = arena_alloc(m->arena, sizeof(Merged));
    if (node == NULL) {
        m->failed = 1;
        return NULL;
    }
    memset(node, 0, sizeof(Merged));
    node->kind = kind;
    node->leaf = leaf;
    return node;
}

static uint64_t key_hash(uint8_t id_kind, const char *key, uint32_t len)
{
    uint64_t hash = 1469598103934665603ULL ^ id_kind; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) {
        hash ^= (unsigned char)key[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

static int same_key(const Entry *entry, uint8_t id_kind, const char *key, uint32_t len)
{
    return entry->id_kind == id_kind && entry->key_len == len && memcmp(entry->key, key, len) == 0;
}

static Entry *find_entry(const Merged *node, uint8_t id_kind, const char *key, uint32_t len)
{
    if (id_kind == ID_NONE && node->kind == M_ARRAY)
        return NULL;
    if (node->index == NULL) {
        for (Entry *entry = node->first; entry != NULL; entry = entry->next)
            if (same_key(entry, id_kind, key, len))
                return entry;
        return NULL;
    }
    uint64_t hash = key_hash(id_kind, key, len);
    uint32_t mask = node->index_size - 1;
    for (uint32_t slot = (uint32_t)hash & mask;; slot = (slot + 1) & mask) {
        Entry *entry = node->index[slot];
        if (entry == NULL)
            return NULL;
        if (entry->hash == hash && same_key(entry, id_kind, key, len))
            return entry;
    }
}

static void index_put(Merged *node, Entry *entry)
{
    uint32_t mask = node->index_size - 1;
    uint32_t slot = (uint32_t)entry->hash & mask;
    while (node->index[slot] != NULL)
        slot = (slot + 1) & mask;
    node->index[slot] = entry;
}

/* Keep the index at most half full (every entry is in it, so lookups always end). */
static int grow_index(Merge *m, Merged *node)
{
    if (node->count < INDEX_FROM || (node->index != NULL && node->count * 2 <= node->index_size))
        return 0;
    uint32_t size = node->index_size ? node->index_size * 2 : 64;
    if (size < node->index_size || size > (UINT32_MAX >> 2)) {
        m->failed = 1;
        return -1;
    }
    Entry **index = arena_alloc(m->arena, sizeof(Entry *) * size);
    if (index == NULL) {
        m->failed = 1;
        return -1;
    }
    memset(index, 0, sizeof(Entry *) * size);
    node->index = index;
    node->index_size = size;
    for (Entry *entry = node->first; entry != NULL; entry = entry->next)
        index_put(node, entry);
    return 0;
}

static Entry *add_entry(Merge *m, Merged *node, uint8_t id_kind, const char *key, uint32_t len,
                        uint8_t plain, Merged *value)
{
    Entry *entry = arena_alloc(m->arena, sizeof(Entry));
    if (entry == NULL || node->count == UINT32_MAX) {
        m->failed = 1;
        return NULL;
    }
    entry->next = NULL;
    entry->key = key;
    entry->key_len = len;
    entry->key_plain = plain;
    entry->id_kind = id_kind;
    entry->hash = key_hash(id_kind, key, len);
    entry->value = value;
    if (node->last)
        node->last->next = entry;
    else
        node->first = entry;
    node->last = entry;
    node->count++;
    if (node->index != NULL && node->count * 2 <= node->index_size)
        index_put(node, entry);
    else if (grow_index(m, node) < 0)
        return NULL;
    return entry;
}

static int merged_has_leaf(Merged *node)
{
    if (node->kind == M_LEAF || node->has_leaf)
        return 1;
    for (Entry *entry = node->first; entry != NULL; entry = entry->next)
        if (merged_has_leaf(entry->value)) {
            node->has_leaf = 1;
            return 1;
        }
    return 0;
}

static int all_objects(const Node *array)
{
    for (const Node *item = array->first; item != NULL; item = item->next)
        if (item->type != J_OBJECT)
            return 0;
    return 1;
}

static int merge_object(Merge *m, Merged *node, const Node *source, const Plan *plan);

static int merge_array(Merge *m, Merged *node, const Node *items, const Plan *plan)
{
    for (const Node *item = items->first; item != NULL; item = item->next) {
        const Node *id = MEMBER(item, "id");
        uint8_t id_kind = ID_NONE;
        const char *key = "";
        uint32_t len = 0;
        if (id != NULL) {
            switch (id->type) {
            case J_STRING: id_kind = ID_STRING; key = id->text; len = id->len; break;
            case J_INT: id_kind = ID_INT; key = id->text; len = id->len; break;
            case J_NULL: id_kind = ID_NULL; break;
            default: return -1; /* floats, booleans and containers as ids: Python decides */
            }
            if (id_kind == ID_INT && len == 2 && key[0] == '-')
                return -1; /* -0 equals 0 */
        }
        Entry *entry = find_entry(node, id_kind, key, len);
        if (entry == NULL) {
            Merged *child = new_merged(m, M_OBJECT, NULL);
            if (child == NULL || add_entry(m, node, id_kind, key, len, 1, child) == NULL)
                return -1;
            entry = node->last;
        }
        if (merge_object(m, entry->value, item, plan) < 0)
            return -1;
    }
    return 0;
}

static int merge_into(Merge *m, Merged *container, const Node *value, const Plan *plan)
{
    return container->kind == M_OBJECT ? merge_object(m, container, value, plan)
                                       : merge_array(m, container, value, plan);
}

static int merge_container(Merge *m, Merged *node, const Node *value, const Plan *plan)
{
    Entry *entry = find_entry(node, 0, value->key, value->key_len);
    uint8_t kind = value->type == J_OBJECT ? M_OBJECT : M_ARRAY;
    if (entry != NULL && entry->value->kind == kind)
        return merge_into(m, entry->value, value, plan);
    /* Built aside: ocdsmerge only sees it if something lands in it. */
    Merged *fresh = new_merged(m, kind, NULL);
    if (fresh == NULL || merge_into(m, fresh, value, plan) < 0)
        return -1;
    if (!merged_has_leaf(fresh))
        return 0;
    if (entry == NULL)
        return add_entry(m, node, 0, value->key, value->key_len, value->key_plain, fresh) ? 0 : -1;
    if (entry->value->kind != M_LEAF && merged_has_leaf(entry->value))
        return -1; /* an object turning into an array or back: the Python path raises */
    entry->value = fresh;
    return 0;
}

static int merge_object(Merge *m, Merged *node, const Node *source, const Plan *plan)
{
    for (const Node *value = source->first; value != NULL; value = value->next) {
        if (in_keys(plan->omit, plan->omit_len, plan->n_omit, value->key, value->key_len))
            continue;
        int whole = in_keys(plan->whole, plan->whole_len, plan->n_whole, value->key, value->key_len);
        if (!whole && (value->type == J_OBJECT || (value->type == J_ARRAY && all_objects(value)))) {
            /* Empty objects and arrays add nothing (ocdsmerge skips them). */
            if (value->len > 0 &&
                merge_container(m, node, value, plan_child(plan, value->key, value->key_len)) < 0)
                return -1;
            continue;
        }
        Entry *entry = find_entry(node, 0, value->key, value->key_len);
        if (entry == NULL) {
            Merged *leaf = new_merged(m, M_LEAF, value);
            if (leaf == NULL || add_entry(m, node, 0, value->key, value->key_len, value->key_plain, leaf) == NULL)
                return -1;
        } else if (entry->value->kind == M_LEAF) {
            entry->value->leaf = value;
        } else if (!merged_has_leaf(entry->value)) {
            /* A container with nothing under it never existed for ocdsmerge: the leaf wins. */
            Merged *leaf = new_merged(m, M_LEAF, value);
            if (leaf == NULL)
                return -1;
            entry->value = leaf;
        }
        /* else ocdsmerge keeps the container when the leaf's path comes later. */
    }
    return m->failed ? -1 : 0;
}

/* 1 if written, 0 if there is nothing (None in `merge._output`), 2 for a null leaf: nothing
 * written, but its parent object is kept. -1 on failure. */
static int write_merged(Out *out, const Merged *node, Arena *arena)
{
    if (node->kind == M_LEAF) {
        if (node->leaf->type == J_NULL)
            return 2;
        return write_value(out, node->leaf, AS_IS, arena) < 0 ? -1 : 1;
    }
    int object = node->kind == M_OBJECT;
    size_t start = out->len;
    out_char(out, object ? '{' : '[');
    int present = 0, written = 0;
    for (const Entry *entry = node->first; entry != NULL; entry = entry->next) {
        size_t mark = out->len;
        if (written)
            out_char(out, ',');
        if (object) {
            out_string(out, entry->key, entry->key_len, entry->key_plain);
            out_char(out, ':');
        }
        int result = write_merged(out, entry->value, arena);
        if (result < 0)
            return -1;
        if (result == 1) {
            written = 1;
            present = 1;
        } else {
            out->len = mark;
            if (result == 2)
                present = 1;
        }
    }
    if (out->failed)
        return -1;
    if (object ? !present : !written) {
        out->len = start;
        return 0;
    }
    out_char(out, object ? '}' : ']');
    return out->failed ? -1 : 1;
}

/* The compiled release of one ocid's bodies (sorted by date), written to `out`: 0, or -1 when
 * the Python merge must decide (a merge conflict, an id that is neither a string nor an
 * integer...). `date` is the last release's, as in merge.Merger.compiled. */
typedef struct {
    const char *text;
    uint32_t len;
} Slice;

static int compile_one(const Plan *plan, Slice ocid, Slice date, const Slice *bodies, Py_ssize_t count,
                       Out *out)
{
    Arena arena = {NULL};
    Merge m = {&arena, 0};
    int result = -1;
    if ((size_t)ocid.len + date.len + 1 > UINT32_MAX)
        goto done;
    /* The root's own fields come first, as in merge.Merger.compiled. */
    Merged *root = new_merged(&m, M_OBJECT, NULL);
    Node *nodes = arena_alloc(&arena, sizeof(Node) * 5);
    char *id_text = arena_alloc(&arena, (size_t)ocid.len + date.len + 1);
    if (root == NULL || nodes == NULL || id_text == NULL)
        goto done;
    memset(nodes, 0, sizeof(Node) * 5);
    Node *tag = &nodes[0], *compiled = &nodes[1];
    compiled->type = J_STRING;
    compiled->text = "compiled";
    compiled->len = 8;
    compiled->plain = 1;
    tag->type = J_ARRAY;
    tag->first = compiled;
    tag->len = 1;
    memcpy(id_text, ocid.text, ocid.len);
    id_text[ocid.len] = '-';
    memcpy(id_text + ocid.len + 1, date.text, date.len);
    Slice texts[3] = {{id_text, ocid.len + date.len + 1}, date, ocid};
    for (int i = 0; i < 3; i++) {
        Node *node = &nodes[2 + i];
        node->type = J_STRING;
        node->text = texts[i].text;
        node->len = texts[i].len;
        node->plain = 1;
        for (uint32_t j = 0; j < texts[i].len; j++)
            if (needs_escape((unsigned char)texts[i].text[j]))
                node->plain = 0;
    }
    static const char *const root_keys[4] = {"tag", "id", "date", "ocid"};
    for (int i = 0; i < 4; i++) {
        Merged *leaf = new_merged(&m, M_LEAF, i == 0 ? tag : &nodes[1 + i]);
        if (leaf == NULL || !add_entry(&m, root, 0, root_keys[i], (uint32_t)strlen(root_keys[i]), 1, leaf))
            goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Node *release = parse_document(&arena, bodies[i].text, bodies[i].len);
        if (release == NULL || release->type != J_OBJECT)
            goto done;
        /* Bodies never hold the key fields; one that does is not ingest's. */
        for (const Node *child = release->first; child != NULL; child = child->next)
            if (is_key_field(child))
                goto done;
        if (merge_object(&m, root, release, plan) < 0)
            goto done;
    }
    out->len = 0;
    int written = write_merged(out, root, &arena);
    if (written < 0)
        goto done;
    if (written == 0)
        out_bytes(out, "{}", 2);
    result = out->failed ? -1 : 0;
done:
    arena_free(&arena);
    return result;
}

/* -- compiling a sorted table of releases ----------------------------------------------------- */
/* An Arrow column handed over as buffers: (validity or None, offsets or None, data). */
typedef struct {
    Py_buffer validity, offsets, data;
    int has_validity, has_offsets, has_data;
    Py_ssize_t rows;
} InColumn;

static void in_release(InColumn *column)
{
    if (column->has_validity)
        PyBuffer_Release(&column->validity);
    if (column->has_offsets)
        PyBuffer_Release(&column->offsets);
    if (column->has_data)
        PyBuffer_Release(&column->data);
    column->has_validity = column->has_offsets = column->has_data = 0;
}

static int in_column(PyObject *spec, InColumn *column, Py_ssize_t rows, int offsets, size_t width)
{
    memset(column, 0, sizeof(InColumn));
    column->rows = rows;
    PyObject *validity, *offset_buffer, *data;
    if (!PyArg_ParseTuple(spec, "OOO", &validity, &offset_buffer, &data))
        return -1;
    if (validity != Py_None) {
        if (PyObject_GetBuffer(validity, &column->validity, PyBUF_SIMPLE) < 0)
            return -1;
        column->has_validity = 1;
        if (column->validity.len < (rows + 7) / 8)
            goto bad;
    }
    if (offsets) {
        if (offset_buffer == Py_None || PyObject_GetBuffer(offset_buffer, &column->offsets, PyBUF_SIMPLE) < 0)
            goto bad;
        column->has_offsets = 1;
        if (column->offsets.len < (rows + 1) * (Py_ssize_t)sizeof(int32_t))
            goto bad;
    }
    if (data != Py_None) {
        if (PyObject_GetBuffer(data, &column->data, PyBUF_SIMPLE) < 0)
            goto bad;
        column->has_data = 1;
    }
    if (width && (!column->has_data || column->data.len < rows * (Py_ssize_t)width))
        goto bad;
    return 0;
bad:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "an Arrow column's buffers are too short");
    in_release(column);
    return -1;
}

static int in_valid(const InColumn *column, Py_ssize_t row)
{
    if (!column->has_validity)
        return 1;
    return (((const unsigned char *)column->validity.buf)[row / 8] >> (row % 8)) & 1;
}

static int32_t in_offset(const InColumn *column, Py_ssize_t row)
{
    int32_t value;
    memcpy(&value, (const char *)column->offsets.buf + row * (Py_ssize_t)sizeof(int32_t), sizeof value);
    return value;
}

/* A row of a string column, or a slice with NULL text when it is null or out of bounds. */
static Slice in_string(const InColumn *column, Py_ssize_t row)
{
    Slice slice = {NULL, 0};
    if (!in_valid(column, row))
        return slice;
    int32_t start = in_offset(column, row), end = in_offset(column, row + 1);
    if (start < 0 || end < start || !column->has_data || end > column->data.len)
        return slice;
    slice.text = (const char *)column->data.buf + start;
    slice.len = (uint32_t)(end - start);
    return slice;
}

static int64_t in_int64(const InColumn *column, Py_ssize_t row)
{
    int64_t value;
    memcpy(&value, (const char *)column->data.buf + row * (Py_ssize_t)sizeof(int64_t), sizeof value);
    return value;
}

/* Distinct texts in the order they first come (a group's tags and sources). */
typedef struct {
    Slice *slots;
    uint32_t size;
} Distinct;

static int distinct_init(Distinct *set, Arena *arena, size_t expected)
{
    uint32_t size = 16;
    while (size < expected * 2) {
        if (size > (UINT32_MAX >> 2))
            return -1;
        size *= 2;
    }
    set->slots = arena_alloc(arena, sizeof(Slice) * size);
    if (set->slots == NULL)
        return -1;
    memset(set->slots, 0, sizeof(Slice) * size);
    set->size = size;
    return 0;
}

/* 1 if the text is new (and now in the set), 0 if it was there. */
static int distinct_add(Distinct *set, Slice text)
{
    uint64_t hash = key_hash(0, text.text, text.len);
    uint32_t mask = set->size - 1;
    for (uint32_t slot = (uint32_t)hash & mask;; slot = (slot + 1) & mask) {
        Slice *here = &set->slots[slot];
        if (here->text == NULL) {
            *here = text;
            return 1;
        }
        if (here->len == text.len && memcmp(here->text, text.text, text.len) == 0)
            return 0;
    }
}

static void list_end(Column *list, const Column *items)
{
    if (items->rows > INT32_MAX) {
        list->offsets.failed = 1;
        return;
    }
    int32_t end = (int32_t)items->rows;
    out_bytes(&list->offsets, (const char *)&end, sizeof end);
    column_valid(list, 1);
}

enum {
    K_OCID, K_COMPILED, K_VERSIONED, K_COUNT, K_IDS, K_IDS_ITEM, K_FIRST, K_LAST, K_TAGS, K_TAGS_ITEM,
    K_SOURCES, K_SOURCES_ITEM, K_ERROR, N_COMPILED
};

static const char *const compiled_names[N_COMPILED] = {
    "ocid", "compiled_release", "versioned_release", "release_count", "release_ids", "release_ids.item",
    "first_release_date", "last_release_date", "tags", "tags.item", "sources", "sources.item",
    "merge_error",
};

static const int compiled_offsets[N_COMPILED] = {1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1};

enum { IN_OCID, IN_RELEASE_ID, IN_DATE, IN_TAG, IN_TAG_ITEM, IN_BODY, IN_SOURCE, IN_DATE_UTC, N_IN };

static int same_text(Slice a, Slice b)
{
    return a.text != NULL && b.text != NULL && a.len == b.len && memcmp(a.text, b.text, a.len) == 0;
}

/* The releases of a partition, as record batches of the same columns (IN_*). */
typedef struct {
    InColumn (*batches)[N_IN];
    Py_ssize_t count;
    int64_t *starts; /* the first row of each batch, then the number of rows */
} Input;

/* A row of the partition: which batch holds it and where. */
typedef struct {
    InColumn *in;
    Py_ssize_t row;
} Row;

static Row locate(const Input *input, int64_t row)
{
    Py_ssize_t low = 0, high = input->count - 1;
    while (low < high) {
        Py_ssize_t middle = (low + high + 1) / 2;
        if (input->starts[middle] <= row)
            low = middle;
        else
            high = middle - 1;
    }
    Row found = {input->batches[low], (Py_ssize_t)(row - input->starts[low])};
    return found;
}

/* One group's rows (order[first:end]): its columns, and its compiled release unless refused (1). */
static int compile_rows(const Plan *plan, const Input *input, const int64_t *order, Py_ssize_t first,
                        Py_ssize_t end, Column *out, Out *json)
{
    Arena arena = {NULL};
    int refused = 1;
    Py_ssize_t count = end - first;
    Row *rows = arena_alloc(&arena, sizeof(Row) * (size_t)count);
    Slice *bodies = arena_alloc(&arena, sizeof(Slice) * (size_t)count);
    if (rows == NULL || bodies == NULL) {
        out[K_OCID].data.failed = 1;
        arena_free(&arena);
        return 1;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        rows[i] = locate(input, order[first + i]);
    Row head = rows[0], tail = rows[count - 1];
    Slice ocid = in_string(&head.in[IN_OCID], head.row);
    column_text(&out[K_OCID], ocid.text ? ocid.text : "", ocid.text ? ocid.len : 0);
    column_int(&out[K_COUNT], count, 1);
    for (Py_ssize_t i = 0; i < count; i++) {
        Slice id = in_string(&rows[i].in[IN_RELEASE_ID], rows[i].row);
        if (id.text)
            column_text(&out[K_IDS_ITEM], id.text, id.len);
        else
            column_null_text(&out[K_IDS_ITEM]);
    }
    list_end(&out[K_IDS], &out[K_IDS_ITEM]);
    const InColumn *first_dates = &head.in[IN_DATE_UTC], *last_dates = &tail.in[IN_DATE_UTC];
    column_int(&out[K_FIRST], in_valid(first_dates, head.row) ? in_int64(first_dates, head.row) : 0,
               in_valid(first_dates, head.row));
    column_int(&out[K_LAST], in_valid(last_dates, tail.row) ? in_int64(last_dates, tail.row) : 0,
               in_valid(last_dates, tail.row));

    /* Tags and sources: each the first time it comes, in order (as `_describe` does). */
    size_t tags = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const InColumn *tag = &rows[i].in[IN_TAG];
        if (in_valid(tag, rows[i].row))
            tags += (size_t)(in_offset(tag, rows[i].row + 1) - in_offset(tag, rows[i].row));
    }
    Distinct seen_tags, seen_sources;
    if (distinct_init(&seen_tags, &arena, tags) < 0 || distinct_init(&seen_sources, &arena, (size_t)count) < 0) {
        out[K_TAGS].offsets.failed = 1;
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        const InColumn *tag = &rows[i].in[IN_TAG], *items = &rows[i].in[IN_TAG_ITEM];
        if (!in_valid(tag, rows[i].row))
            continue;
        int32_t a = in_offset(tag, rows[i].row), b = in_offset(tag, rows[i].row + 1);
        for (int32_t item = a; item < b && item >= 0 && item < items->rows; item++) {
            Slice text = in_string(items, item);
            if (text.text && distinct_add(&seen_tags, text))
                column_text(&out[K_TAGS_ITEM], text.text, text.len);
        }
    }
    list_end(&out[K_TAGS], &out[K_TAGS_ITEM]);
    for (Py_ssize_t i = 0; i < count; i++) {
        Slice source = in_string(&rows[i].in[IN_SOURCE], rows[i].row);
        if (source.text && distinct_add(&seen_sources, source))
            column_text(&out[K_SOURCES_ITEM], source.text, source.len);
    }
    list_end(&out[K_SOURCES], &out[K_SOURCES_ITEM]);

    for (Py_ssize_t i = 0; i < count; i++) {
        bodies[i] = in_string(&rows[i].in[IN_BODY], rows[i].row);
        if (bodies[i].text == NULL)
            goto done;
    }
    Slice date = in_string(&tail.in[IN_DATE], tail.row);
    if (ocid.text != NULL && date.text != NULL && compile_one(plan, ocid, date, bodies, count, json) == 0)
        refused = 0;
done:
    if (refused)
        column_null_text(&out[K_COMPILED]);
    else
        column_text(&out[K_COMPILED], json->data, json->len);
    column_null_text(&out[K_VERSIONED]);
    column_null_text(&out[K_ERROR]);
    arena_free(&arena);
    return refused;
}

PyDoc_STRVAR(compile_sorted_doc,
"compile_sorted(plan, order, batches) -> (groups, columns, refused)\n\n"
"Compile a partition of releases taken in `order` (int64 row numbers that sort it by ocid, date\n"
"and ingest order). `batches` holds the partition's record batches, each a tuple of its columns\n"
"ocid, release_id, date, tag, tag items, body, source, date_utc, each column handed over as its\n"
"Arrow buffers (validity or None, offsets or None, data). `columns` holds the buffers of\n"
"compile.COMPILED_SCHEMA's columns, one row per ocid, as `examine_block` does; `refused` lists\n"
"(group, first, end) positions in `order` of the ocids whose compiled release (left null) the\n"
"Python merge must make.");

static int read_batch(PyObject *specs, InColumn *in)
{
    if (!PyTuple_Check(specs) || PyTuple_GET_SIZE(specs) != N_IN + 1) {
        PyErr_SetString(PyExc_ValueError, "a batch is (rows, ocid, release_id, date, tag, tag items, body, source, date_utc)");
        return -1;
    }
    Py_ssize_t rows = PyLong_AsSsize_t(PyTuple_GET_ITEM(specs, 0));
    if (rows < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a batch's rows cannot be negative");
        return -1;
    }
    for (int c = 0; c < N_IN; c++) {
        Py_ssize_t count = rows;
        if (c == IN_TAG_ITEM) {
            /* The tag items: as many as the tag column's last offset says. */
            count = in_offset(&in[IN_TAG], rows);
            if (count < 0) {
                PyErr_SetString(PyExc_ValueError, "a tag column's offsets are broken");
                return -1;
            }
        }
        if (in_column(PyTuple_GET_ITEM(specs, c + 1), &in[c], count, c != IN_DATE_UTC,
                      c == IN_DATE_UTC ? 8 : 0) < 0)
            return -1;
    }
    return 0;
}

static PyObject *compile_sorted(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *capsule, *order_object, *batch_list;
    if (!PyArg_ParseTuple(args, "OOO!", &capsule, &order_object, &PyList_Type, &batch_list))
        return NULL;
    const Plan *plan = PyCapsule_GetPointer(capsule, "mutualise.merge_plan");
    if (plan == NULL)
        return NULL;
    Py_buffer order_buffer;
    if (PyObject_GetBuffer(order_object, &order_buffer, PyBUF_SIMPLE) < 0)
        return NULL;
    Input input = {NULL, PyList_GET_SIZE(batch_list), NULL};
    Column out[N_COMPILED];
    for (int c = 0; c < N_COMPILED; c++)
        column_init(&out[c], compiled_offsets[c]);
    Out json = {NULL, 0, 0, 0};
    PyObject *refused = PyList_New(0), *result = NULL, *columns = NULL;
    int ready = refused != NULL;
    input.batches = calloc((size_t)input.count + 1, sizeof(*input.batches));
    input.starts = calloc((size_t)input.count + 1, sizeof(int64_t));
    if (input.batches == NULL || input.starts == NULL) {
        PyErr_NoMemory();
        ready = 0;
    }
    Py_ssize_t rows = 0;
    for (Py_ssize_t b = 0; ready && b < input.count; b++) {
        if (read_batch(PyList_GET_ITEM(batch_list, b), input.batches[b]) < 0)
            ready = 0;
        else {
            input.starts[b] = rows;
            rows += input.batches[b][IN_OCID].rows;
        }
    }
    const int64_t *order = order_buffer.buf;
    if (ready && (order_buffer.len < rows * (Py_ssize_t)sizeof(int64_t) || input.count == 0) && rows > 0) {
        PyErr_SetString(PyExc_ValueError, "the order must hold each row number of the partition");
        ready = 0;
    }
    for (Py_ssize_t i = 0; ready && i < rows; i++)
        if (order[i] < 0 || order[i] >= rows) {
            PyErr_SetString(PyExc_ValueError, "the order must hold each row number of the partition");
            ready = 0;
        }
    if (ready)
        input.starts[input.count] = rows;
    Py_ssize_t groups = 0;
    for (Py_ssize_t first = 0; ready && first < rows; groups++) {
        Row head = locate(&input, order[first]);
        Slice ocid = in_string(&head.in[IN_OCID], head.row);
        Py_ssize_t end = first + 1;
        while (end < rows) {
            Row next = locate(&input, order[end]);
            if (!same_text(in_string(&next.in[IN_OCID], next.row), ocid))
                break;
            end++;
        }
        if (compile_rows(plan, &input, order, first, end, out, &json)) {
            PyObject *entry = Py_BuildValue("(nnn)", groups, first, end);
            if (entry == NULL || PyList_Append(refused, entry) < 0)
                ready = 0;
            Py_XDECREF(entry);
        }
        first = end;
    }
    for (int c = 0; c < N_COMPILED && ready; c++)
        if (column_failed(&out[c]))
            ready = 0;
    if (ready && json.failed)
        ready = 0;
    if (ready) {
        columns = PyDict_New();
        for (int c = 0; columns != NULL && c < N_COMPILED; c++) {
            PyObject *buffers = column_buffers(&out[c]);
            if (buffers == NULL || PyDict_SetItemString(columns, compiled_names[c], buffers) < 0) {
                Py_XDECREF(buffers);
                Py_CLEAR(columns);
            } else {
                Py_DECREF(buffers);
            }
        }
        if (columns != NULL)
            result = Py_BuildValue("(nOO)", groups, columns, refused);
    }
    if (result == NULL && !PyErr_Occurred())
        PyErr_NoMemory();
    Py_XDECREF(columns);
    Py_XDECREF(refused);
    for (Py_ssize_t b = 0; input.batches != NULL && b < input.count; b++)
        for (int c = 0; c < N_IN; c++)
            in_release(&input.batches[b][c]);
    free(input.batches);
    free(input.starts);
    PyBuffer_Release(&order_buffer);
    for (int c = 0; c < N_COMPILED; c++)
        column_free(&out[c]);
    free(json.data);
    return result;
}

/* -- module ----------------------------------------------------------------------------------- */
static PyMethodDef methods[] = {
    {"examine_block", examine_block, METH_VARARGS, examine_block_doc},
    {"canonical", canonical, METH_O, canonical_doc},
    {"release_key", release_key, METH_VARARGS, release_key_doc},
    {"blake2b", blake2b_digest, METH_VARARGS, blake2b_doc},
    {"date_micros", date_micros, METH_O, date_micros_doc},
    {"make_plan", make_plan, METH_O, make_plan_doc},
    {"compile_sorted", compile_sorted, METH_VARARGS, compile_sorted_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_native",
    .m_doc = "The pipeline's hot paths in C, each checked against its Python reference.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    init_tables();
    if (PyType_Ready(&BufferType) < 0)
        return NULL;
    return PyModule_Create(&module);
}
