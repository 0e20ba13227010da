/*
 * lotmerkle: Keccak-256 and the Merkle tree of a lot, for lots of hundreds of thousands of items.
 *
 * Loaded through ctypes by app/scale/native.py, which builds it (cc -O3 -fPIC -shared) into
 * .build/native/liblotmerkle.so. The pure-Python reference is app/chain/merkle.py; the tests
 * (tests/test_scale_native.py) check this file against it and against eth_utils.keccak.
 *
 * Keccak-f[1600] is written from FIPS 202 (theta, rho, pi, chi, iota on 25 64-bit lanes,
 * lane (x, y) holding state bytes 8(x + 5y)..8(x + 5y) + 7 little-endian). Keccak-256 is the
 * original Keccak padding (0x01 ... 0x80, not SHA-3's 0x06) with rate 136 bytes, as Ethereum
 * uses. Two rounds per loop iteration keep all 25 lanes in local variables (state A, then E).
 * A lot's hashes run four at a time through a vector form of the same permutation
 * (keccak_f1600_x4): ids, then leaves, then each level of the tree. -DLOTMERKLE_PORTABLE
 * compiles that for the build machine's default target only (no per-CPU clones).
 *
 * Everything here is reentrant: no writable globals, all scratch memory per call, so two
 * threads may build two lots at once (ctypes releases the GIL during calls).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RATE 136
#define HASH 32
#define CHUNK_LEVELS 4

/* Return codes of lotmerkle_build_lot (and lotmerkle_tree); *where says which item (input order). */
#define LM_OK 0
#define LM_DUPLICATE 1     /* *where: an item whose id another item has too */
#define LM_BAD_OFFSETS 2   /* *where: i with offsets[i] > offsets[i+1] or past the serials */
#define LM_BAD_MD_INDEX 3  /* *where: i with md_index[i] >= m */
#define LM_NO_MEMORY 4
#define LM_BAD_ARGS 5      /* n == 0, or an output buffer too small */

static const uint64_t ROUND_CONSTANTS[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

/*
 * One round from state A (lanes A##xy, x the column, y the row) into state E.
 * theta: C[x] = xor of column x, D[x] = C[x-1] ^ rol(C[x+1], 1), every lane ^= D[x].
 * rho and pi: B[y][2x+3y] = rol(A[x][y], r[x][y]); here each output row y' gathers its five
 *   lanes: B[x'] comes from A[x][x'] with x = 3(y' - 3x') mod 5.
 * chi: E[x][y] = B[x] ^ (~B[x+1] & B[x+2]) along the row; iota: E[0][0] ^= round constant.
 */
#define ROUND(T, A, E, rc)                                                                         \
    do {                                                                                           \
        T C0 = A##00 ^ A##01 ^ A##02 ^ A##03 ^ A##04;                                              \
        T C1 = A##10 ^ A##11 ^ A##12 ^ A##13 ^ A##14;                                              \
        T C2 = A##20 ^ A##21 ^ A##22 ^ A##23 ^ A##24;                                              \
        T C3 = A##30 ^ A##31 ^ A##32 ^ A##33 ^ A##34;                                              \
        T C4 = A##40 ^ A##41 ^ A##42 ^ A##43 ^ A##44;                                              \
        T D0 = C4 ^ ROL(C1, 1);                                                                    \
        T D1 = C0 ^ ROL(C2, 1);                                                                    \
        T D2 = C1 ^ ROL(C3, 1);                                                                    \
        T D3 = C2 ^ ROL(C4, 1);                                                                    \
        T D4 = C3 ^ ROL(C0, 1);                                                                    \
        T B0, B1, B2, B3, B4;                                                                      \
        B0 = A##00 ^ D0;                                                                           \
        B1 = ROL(A##11 ^ D1, 44);                                                                  \
        B2 = ROL(A##22 ^ D2, 43);                                                                  \
        B3 = ROL(A##33 ^ D3, 21);                                                                  \
        B4 = ROL(A##44 ^ D4, 14);                                                                  \
        E##00 = B0 ^ (~B1 & B2) ^ (rc);                                                            \
        E##10 = B1 ^ (~B2 & B3);                                                                   \
        E##20 = B2 ^ (~B3 & B4);                                                                   \
        E##30 = B3 ^ (~B4 & B0);                                                                   \
        E##40 = B4 ^ (~B0 & B1);                                                                   \
        B0 = ROL(A##30 ^ D3, 28);                                                                  \
        B1 = ROL(A##41 ^ D4, 20);                                                                  \
        B2 = ROL(A##02 ^ D0, 3);                                                                   \
        B3 = ROL(A##13 ^ D1, 45);                                                                  \
        B4 = ROL(A##24 ^ D2, 61);                                                                  \
        E##01 = B0 ^ (~B1 & B2);                                                                   \
        E##11 = B1 ^ (~B2 & B3);                                                                   \
        E##21 = B2 ^ (~B3 & B4);                                                                   \
        E##31 = B3 ^ (~B4 & B0);                                                                   \
        E##41 = B4 ^ (~B0 & B1);                                                                   \
        B0 = ROL(A##10 ^ D1, 1);                                                                   \
        B1 = ROL(A##21 ^ D2, 6);                                                                   \
        B2 = ROL(A##32 ^ D3, 25);                                                                  \
        B3 = ROL(A##43 ^ D4, 8);                                                                   \
        B4 = ROL(A##04 ^ D0, 18);                                                                  \
        E##02 = B0 ^ (~B1 & B2);                                                                   \
        E##12 = B1 ^ (~B2 & B3);                                                                   \
        E##22 = B2 ^ (~B3 & B4);                                                                   \
        E##32 = B3 ^ (~B4 & B0);                                                                   \
        E##42 = B4 ^ (~B0 & B1);                                                                   \
        B0 = ROL(A##40 ^ D4, 27);                                                                  \
        B1 = ROL(A##01 ^ D0, 36);                                                                  \
        B2 = ROL(A##12 ^ D1, 10);                                                                  \
        B3 = ROL(A##23 ^ D2, 15);                                                                  \
        B4 = ROL(A##34 ^ D3, 56);                                                                  \
        E##03 = B0 ^ (~B1 & B2);                                                                   \
        E##13 = B1 ^ (~B2 & B3);                                                                   \
        E##23 = B2 ^ (~B3 & B4);                                                                   \
        E##33 = B3 ^ (~B4 & B0);                                                                   \
        E##43 = B4 ^ (~B0 & B1);                                                                   \
        B0 = ROL(A##20 ^ D2, 62);                                                                  \
        B1 = ROL(A##31 ^ D3, 55);                                                                  \
        B2 = ROL(A##42 ^ D4, 39);                                                                  \
        B3 = ROL(A##03 ^ D0, 41);                                                                  \
        B4 = ROL(A##14 ^ D1, 2);                                                                   \
        E##04 = B0 ^ (~B1 & B2);                                                                   \
        E##14 = B1 ^ (~B2 & B3);                                                                   \
        E##24 = B2 ^ (~B3 & B4);                                                                   \
        E##34 = B3 ^ (~B4 & B0);                                                                   \
        E##44 = B4 ^ (~B0 & B1);                                                                   \
    } while (0)

/* Lane i of s is lane (x, y) = (i % 5, i / 5). */
#define LANES(X, T, s)                                                                             \
    X(T, a00, s[0]) X(T, a10, s[1]) X(T, a20, s[2]) X(T, a30, s[3]) X(T, a40, s[4])                \
    X(T, a01, s[5]) X(T, a11, s[6]) X(T, a21, s[7]) X(T, a31, s[8]) X(T, a41, s[9])                \
    X(T, a02, s[10]) X(T, a12, s[11]) X(T, a22, s[12]) X(T, a32, s[13]) X(T, a42, s[14])           \
    X(T, a03, s[15]) X(T, a13, s[16]) X(T, a23, s[17]) X(T, a33, s[18]) X(T, a43, s[19])           \
    X(T, a04, s[20]) X(T, a14, s[21]) X(T, a24, s[22]) X(T, a34, s[23]) X(T, a44, s[24])
#define LOAD_LANE(T, lane, slot) T lane = (slot);
#define STORE_LANE(T, lane, slot) (slot) = lane;

/* Keccak-f[1600] on the 25 lanes s[0..25) of type T (a lane, or a vector of lanes). */
#define KECCAK_F1600(T, s)                                                                         \
    do {                                                                                           \
        LANES(LOAD_LANE, T, s)                                                                     \
        T e00, e10, e20, e30, e40, e01, e11, e21, e31, e41, e02, e12, e22, e32, e42;               \
        T e03, e13, e23, e33, e43, e04, e14, e24, e34, e44;                                        \
        for (int round = 0; round < 24; round += 2) {                                              \
            ROUND(T, a, e, ROUND_CONSTANTS[round]);                                                \
            ROUND(T, e, a, ROUND_CONSTANTS[round + 1]);                                            \
        }                                                                                          \
        LANES(STORE_LANE, T, s)                                                                    \
    } while (0)

static inline void keccak_f1600(uint64_t s[25]) { KECCAK_F1600(uint64_t, s); }

/*
 * Four independent states at once: lane i of state k is s[i][k]. GCC's vector extension makes
 * this portable C; on x86-64 it is compiled for AVX-512 (rotates and three-input logic in one
 * instruction each), for AVX2 and for the baseline, and the loader picks the best one the CPU
 * runs (target_clones, an ifunc resolved once). A lot's hashes are independent within each
 * stage (ids, leaves, each level), so they go through here four at a time.
 */
typedef uint64_t lanes4 __attribute__((vector_size(32)));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(LOTMERKLE_PORTABLE)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
static void keccak_f1600_x4(lanes4 s[25]) {
    KECCAK_F1600(lanes4, s);
}

static inline uint64_t load64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static inline void store64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static inline void squeeze256(const uint64_t s[25], uint8_t out[HASH]) {
    store64(out, s[0]);
    store64(out + 8, s[1]);
    store64(out + 16, s[2]);
    store64(out + 24, s[3]);
}

/* Keccak-256 of the concatenation of two byte strings, any lengths (the general sponge). */
static void keccak256_two(const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2, uint8_t out[HASH]) {
    uint64_t s[25] = {0};
    uint8_t block[RATE];
    size_t fill = 0;
    const uint8_t *parts[2] = {p1, p2};
    size_t sizes[2] = {n1, n2};
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = parts[k];
        size_t left = sizes[k];
        while (left > 0) {
            size_t take = RATE - fill < left ? RATE - fill : left;
            memcpy(block + fill, p, take);
            fill += take;
            p += take;
            left -= take;
            if (fill == RATE) {
                for (int i = 0; i < RATE / 8; i++) s[i] ^= load64(block + 8 * i);
                keccak_f1600(s);
                fill = 0;
            }
        }
    }
    memset(block + fill, 0, RATE - fill);
    block[fill] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++) s[i] ^= load64(block + 8 * i);
    keccak_f1600(s);
    squeeze256(s, out);
}

static inline int cmp32(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, HASH); }

/* The four-way forms of the hashes a lot needs. Each takes up to four jobs (count); unused
 * lanes hash a copy of job 0 into `spare`. Outputs may alias inputs: all are read first. */
#define SPLAT4(v) ((lanes4){(v), (v), (v), (v)})
#define PAD_LAST SPLAT4(0x8000000000000000ULL)

typedef struct {
    const uint8_t *a[4], *b[4];
    size_t len[4];
    uint8_t *out[4];
    int count;
    uint8_t spare[HASH];
} batch4;

static void batch_fill(batch4 *job) {
    for (int k = job->count; k < 4; k++) {
        job->a[k] = job->a[0];
        job->b[k] = job->b[0];
        job->len[k] = job->len[0];
        job->out[k] = job->spare;
    }
}

static void squeeze4(const lanes4 s[25], uint8_t *const out[4]) {
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) store64(out[k] + 8 * i, s[i][k]);
}

/* Item ids: keccak256(prefix (18 bytes) || serial) for serials of at most RATE - 19 bytes. */
static void item_ids_x4(batch4 *job, const uint8_t prefix[18]) {
    batch_fill(job);
    lanes4 s[25];
    memset(s, 0, sizeof s);
    for (int k = 0; k < 4; k++) {
        uint8_t block[RATE] = {0};
        memcpy(block, prefix, 18);
        memcpy(block + 18, job->a[k], job->len[k]);
        block[18 + job->len[k]] ^= 0x01;
        block[RATE - 1] ^= 0x80;
        for (int i = 0; i < RATE / 8; i++) s[i][k] = load64(block + 8 * i);
    }
    keccak_f1600_x4(s);
    squeeze4(s, job->out);
    job->count = 0;
}

/* Leaves: keccak256(keccak256(id || metadata)); the inner hash never leaves the registers. */
static void leaves_x4(batch4 *job) {
    batch_fill(job);
    lanes4 s[25];
    memset(s, 0, sizeof s);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) {
            s[i][k] = load64(job->a[k] + 8 * i);
            s[4 + i][k] = load64(job->b[k] + 8 * i);
        }
    s[8] = SPLAT4(0x01);
    s[16] = PAD_LAST;
    keccak_f1600_x4(s);
    memset(s + 4, 0, 21 * sizeof s[0]);
    s[4] = SPLAT4(0x01);
    s[16] = PAD_LAST;
    keccak_f1600_x4(s);
    squeeze4(s, job->out);
    job->count = 0;
}

/* Inner nodes: keccak256 of each pair (a, b) in ascending order. */
static void pairs_x4(batch4 *job) {
    batch_fill(job);
    lanes4 s[25];
    memset(s, 0, sizeof s);
    for (int k = 0; k < 4; k++) {
        const uint8_t *lo = job->a[k], *hi = job->b[k];
        if (cmp32(lo, hi) > 0) {
            lo = job->b[k];
            hi = job->a[k];
        }
        for (int i = 0; i < 4; i++) {
            s[i][k] = load64(lo + 8 * i);
            s[4 + i][k] = load64(hi + 8 * i);
        }
    }
    s[8] = SPLAT4(0x01);
    s[16] = PAD_LAST;
    keccak_f1600_x4(s);
    squeeze4(s, job->out);
    job->count = 0;
}

void lotmerkle_keccak256(const uint8_t *data, size_t len, uint8_t *out) {
    keccak256_two(data, len, NULL, 0, out);
}

/* An item while sorting: its id, its metadata index and its position in the input. */
typedef struct {
    uint8_t id[HASH];
    uint32_t md;
    uint32_t input;
} record;

static int record_cmp(const void *a, const void *b) {
    return cmp32(((const record *)a)->id, ((const record *)b)->id);
}

/* Sorts recs[0..n) by id into out: a counting pass on the first `bits` bits (ids are keccak
 * outputs, so buckets hold a few items each), then insertion sort (qsort for a big bucket). */
static int sort_records(const record *recs, record *out, size_t n) {
    unsigned bits = 0;
    while (bits < 16 && ((size_t)1 << bits) < n) bits++;
    size_t buckets = (size_t)1 << bits;
    size_t *start = calloc(buckets + 1, sizeof *start);
    if (start == NULL) return LM_NO_MEMORY;
    unsigned shift = 16 - bits;
#define BUCKET(r) ((((size_t)(r)->id[0] << 8) | (r)->id[1]) >> shift)
    for (size_t i = 0; i < n; i++) start[BUCKET(&recs[i]) + 1]++;
    for (size_t b = 0; b < buckets; b++) start[b + 1] += start[b];
    size_t *next = malloc(buckets * sizeof *next);
    if (next == NULL) {
        free(start);
        return LM_NO_MEMORY;
    }
    memcpy(next, start, buckets * sizeof *next);
    for (size_t i = 0; i < n; i++) out[next[BUCKET(&recs[i])]++] = recs[i];
#undef BUCKET
    free(next);
    for (size_t b = 0; b < buckets; b++) {
        record *r = out + start[b];
        size_t size = start[b + 1] - start[b];
        if (size > 32) {
            qsort(r, size, sizeof *r, record_cmp);
            continue;
        }
        for (size_t i = 1; i < size; i++) {
            if (cmp32(r[i - 1].id, r[i].id) <= 0) continue;
            record moving = r[i];
            size_t j = i;
            while (j > 0 && cmp32(r[j - 1].id, moving.id) > 0) {
                r[j] = r[j - 1];
                j--;
            }
            r[j] = moving;
        }
    }
    free(start);
    return LM_OK;
}

/* Node count of each level of a tree over n leaves: levels[k] for k = 0..top; returns top. */
static unsigned tree_top(size_t n) {
    unsigned top = 0;
    for (size_t size = n; size > 1; size = (size + 1) / 2) top++;
    return top;
}

/* The size of the stored levels (min(CHUNK_LEVELS, top)..top) of a tree over n leaves. */
static size_t stored_bytes(size_t n) {
    unsigned top = tree_top(n);
    unsigned first_stored = top < CHUNK_LEVELS ? top : CHUNK_LEVELS;
    size_t needed = 0, size = n;
    for (unsigned k = 0; k <= top; k++, size = (size + 1) / 2)
        if (k >= first_stored) needed += size * HASH;
    return needed;
}

/* The tree over the leaves keccak256(keccak256(ids[i] || md_table[md_index[i]])), i = 0..n, in
 * the given order: its stored levels into upper_out (stored_bytes(n)) and its root. */
static int tree_of(const uint8_t *ids, const uint8_t *md_table, const uint32_t *md_index, size_t n,
                   uint8_t *upper_out, uint8_t *root_out) {
    unsigned top = tree_top(n);
    unsigned first_stored = top < CHUNK_LEVELS ? top : CHUNK_LEVELS;
    /* Level 0, then the levels above computed in place in `level`. */
    uint8_t *level = malloc(n * HASH);
    if (level == NULL) return LM_NO_MEMORY;
    batch4 job;
    job.count = 0;
    for (size_t i = 0; i < n; i++) {
        job.a[job.count] = ids + i * HASH;
        job.b[job.count] = md_table + (size_t)md_index[i] * HASH;
        job.out[job.count++] = level + i * HASH;
        if (job.count == 4) leaves_x4(&job);
    }
    if (job.count > 0) leaves_x4(&job);

    uint8_t *stored = upper_out;
    size_t size = n;
    for (unsigned k = 0;; k++) {
        if (k >= first_stored) {
            memcpy(stored, level, size * HASH);
            stored += size * HASH;
        }
        if (k == top) break;
        size_t pairs = size / 2;
        /* In place: node j is written after nodes 2j and 2j + 1 (>= j) are read. */
        for (size_t j = 0; j < pairs; j++) {
            job.a[job.count] = level + 2 * j * HASH;
            job.b[job.count] = level + (2 * j + 1) * HASH;
            job.out[job.count++] = level + j * HASH;
            if (job.count == 4) pairs_x4(&job);
        }
        if (job.count > 0) pairs_x4(&job);
        if (size % 2) memmove(level + pairs * HASH, level + (size - 1) * HASH, HASH);
        size = (size + 1) / 2;
    }
    memcpy(root_out, level, HASH);
    free(level);
    return LM_OK;
}

/*
 * The tree of a stored lot, to check a lot file (app/scale/store.py): ids (32n, which must
 * ascend strictly: *where, an i with ids[i] <= ids[i-1], gives LM_DUPLICATE), md_table (m
 * hashes), md_index (n, each < m: else LM_BAD_MD_INDEX at *where). Writes the stored levels into
 * upper_out (upper_len bytes available) and the root into root_out, as lotmerkle_build_lot does.
 */
int lotmerkle_tree(const uint8_t *ids, size_t n, const uint8_t *md_table, size_t m, const uint32_t *md_index,
                   uint8_t *upper_out, size_t upper_len, uint8_t *root_out, size_t *where) {
    *where = 0;
    if (n == 0 || upper_len < stored_bytes(n)) return LM_BAD_ARGS;
    for (size_t i = 0; i < n; i++) {
        if (md_index[i] >= m) {
            *where = i;
            return LM_BAD_MD_INDEX;
        }
        if (i > 0 && cmp32(ids + (i - 1) * HASH, ids + i * HASH) >= 0) {
            *where = i;
            return LM_DUPLICATE;
        }
    }
    return tree_of(ids, md_table, md_index, n, upper_out, root_out);
}

/*
 * Builds the tree of one lot (see app/scale/native.py for the Python side):
 *   gtin14 (14 bytes), serials + offsets (n + 1 uint32): the serial of item i is
 *   serials[offsets[i]..offsets[i+1]); serials_len bounds them;
 *   md_table: m 32-byte metadata hashes; md_index: n uint32 indexes into it.
 * Item id = keccak256("01" gtin14 "21" serial); leaf = keccak256(keccak256(id || metadata)).
 * Writes ids_out (32n, ascending), md_index_out (n, following ids_out), upper_out (the levels
 * min(CHUNK_LEVELS, top)..top concatenated; upper_len bytes available) and root_out (32).
 */
int lotmerkle_build_lot(const uint8_t *gtin14, const uint8_t *serials, size_t serials_len,
                        const uint32_t *offsets, size_t n, const uint8_t *md_table, size_t m,
                        const uint32_t *md_index, uint8_t *ids_out, uint32_t *md_index_out,
                        uint8_t *upper_out, size_t upper_len, uint8_t *root_out, size_t *where) {
    *where = 0;
    if (n == 0) return LM_BAD_ARGS;
    if (upper_len < stored_bytes(n)) return LM_BAD_ARGS;
    for (size_t i = 0; i < n; i++) {
        if (offsets[i] > offsets[i + 1] || offsets[i + 1] > serials_len) {
            *where = i;
            return LM_BAD_OFFSETS;
        }
        if (md_index[i] >= m) {
            *where = i;
            return LM_BAD_MD_INDEX;
        }
    }

    record *recs = malloc(n * sizeof *recs);
    record *sorted = malloc(n * sizeof *sorted);
    if (recs == NULL || sorted == NULL) {
        free(recs);
        free(sorted);
        return LM_NO_MEMORY;
    }
    /* Item ids: "01" gtin14 "21" then the serial; one block unless the serial is huge. */
    uint8_t prefix[18];
    memcpy(prefix, "01", 2);
    memcpy(prefix + 2, gtin14, 14);
    memcpy(prefix + 16, "21", 2);
    batch4 job;
    job.count = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *serial = serials + offsets[i];
        size_t len = offsets[i + 1] - offsets[i];
        recs[i].md = md_index[i];
        recs[i].input = (uint32_t)i;
        if (sizeof prefix + len >= RATE) { /* longer than GS1 allows; hashed on its own */
            keccak256_two(prefix, sizeof prefix, serial, len, recs[i].id);
            continue;
        }
        job.a[job.count] = serial;
        job.len[job.count] = len;
        job.out[job.count++] = recs[i].id;
        if (job.count == 4) item_ids_x4(&job, prefix);
    }
    if (job.count > 0) item_ids_x4(&job, prefix);
    int rc = sort_records(recs, sorted, n);
    free(recs);
    if (rc != LM_OK) {
        free(sorted);
        return rc;
    }
    for (size_t i = 1; i < n; i++) {
        if (cmp32(sorted[i - 1].id, sorted[i].id) == 0) {
            *where = sorted[i].input;
            free(sorted);
            return LM_DUPLICATE;
        }
    }

    for (size_t i = 0; i < n; i++) {
        memcpy(ids_out + i * HASH, sorted[i].id, HASH);
        md_index_out[i] = sorted[i].md;
    }
    free(sorted);
    return tree_of(ids_out, md_table, md_index_out, n, upper_out, root_out);
}
