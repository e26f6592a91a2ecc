/*
 * Native kernels for trajbench, loaded through Deno's FFI.
 *
 * Every tensor is float32 in NHWC order with HWIO filters, exactly the
 * layout TensorFlow.js stores, so the JavaScript side passes the tensors' own
 * buffers (a wasm tensor's bytes in the wasm heap, a cpu tensor's
 * Float32Array) and nothing is copied or transposed on the way in or out.
 *
 * Threading: the library runs its own workers and keeps OpenBLAS
 * single-threaded, so one kernel never has two thread pools competing for
 * the same cores. Work is split into pieces whose boundaries depend on the
 * shapes only, and every sum is combined in a fixed order, so a result does
 * not depend on the thread count or on scheduling: reruns are bit-identical.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TB_ABI_VERSION 2

/* OpenBLAS extensions; weak so that another CBLAS also links. */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern char *openblas_get_config(void) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));

static int g_threads = 1;

/* ------------------------------------------------------------------------ */
/* Workers                                                                  */
/* ------------------------------------------------------------------------ */

typedef void (*tb_task)(void *ctx, long begin, long end);

typedef struct {
  tb_task fn;
  void *ctx;
  long begin, end;
} tb_slice;

static void *tb_worker(void *arg) {
  tb_slice *s = (tb_slice *)arg;
  if (s->begin < s->end) s->fn(s->ctx, s->begin, s->end);
  return NULL;
}

/*
 * Run fn over [0, n) in at most g_threads contiguous slices, the calling
 * thread taking the first. Short loops (n < 2 or cost below ~1e5 units) stay
 * on the calling thread: a thread start costs tens of microseconds.
 */
static void tb_parallel(long n, double cost, tb_task fn, void *ctx) {
  int t = g_threads;
  if (t > n) t = (int)n;
  if (t <= 1 || cost < 1e5) {
    if (n > 0) fn(ctx, 0, n);
    return;
  }
  pthread_t tid[64];
  tb_slice sl[64];
  if (t > 64) t = 64;
  for (int i = 0; i < t; i++) {
    sl[i].fn = fn;
    sl[i].ctx = ctx;
    sl[i].begin = n * i / t;
    sl[i].end = n * (i + 1) / t;
  }
  int started[64] = {0};
  for (int i = 1; i < t; i++) {
    started[i] = pthread_create(&tid[i], NULL, tb_worker, &sl[i]) == 0;
    if (!started[i]) tb_worker(&sl[i]);
  }
  tb_worker(&sl[0]);
  for (int i = 1; i < t; i++) {
    if (started[i]) pthread_join(tid[i], NULL);
  }
}

/* ------------------------------------------------------------------------ */
/* Library information                                                      */
/* ------------------------------------------------------------------------ */

/** ABI version; the loader refuses a library with another one. */
int tb_abi_version(void) { return TB_ABI_VERSION; }

static int tb_available_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/**
 * Set the worker count (<= 0: the CPUs this process may run on) and keep
 * OpenBLAS on one thread. Returns the count in use.
 */
int tb_init(int threads) {
  g_threads = threads > 0 ? threads : tb_available_cpus();
  if (g_threads > 64) g_threads = 64;
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  return g_threads;
}

/** Copy a description of the BLAS in use into buf (NUL-terminated). */
void tb_blas_info(char *buf, int len) {
  if (len <= 0) return;
  const char *cfg = openblas_get_config ? openblas_get_config() : "CBLAS";
  const char *core = openblas_get_corename ? openblas_get_corename() : "";
  snprintf(buf, (size_t)len, "%s%s%s", cfg, *core ? ", core " : "", core);
}

/* ------------------------------------------------------------------------ */
/* Convolution (stride 1, no dilation) through im2col + SGEMM               */
/* ------------------------------------------------------------------------ */

typedef struct {
  const float *x;  /* [B, H, W, Ci] */
  const float *w;  /* [KH, KW, Ci, Co] = [Kc, Co] */
  float *y;        /* forward: [B, Ho, Wo, Co] */
  const float *dy; /* filter gradient: [B, Ho, Wo, Co] */
  float *part;     /* filter gradient: per-group partial sums [G, Kc, Co] */
  long B, H, W, Ci, KH, KW, Co, Ho, Wo, pt, pl;
  long rows, block, nblocks, ngroups;
} tb_conv;

/* Rows [r0, r1) of the im2col matrix, column order (kh, kw, ci). */
static void tb_im2col(const tb_conv *c, long r0, long r1, float *col) {
  const long Ci = c->Ci, KW = c->KW, Kc = c->KH * KW * Ci;
  for (long r = r0; r < r1; r++) {
    const long ox = r % c->Wo, oy = (r / c->Wo) % c->Ho, b = r / (c->Wo * c->Ho);
    float *dst = col + (r - r0) * Kc;
    for (long kh = 0; kh < c->KH; kh++) {
      const long iy = oy + kh - c->pt;
      float *d = dst + kh * KW * Ci;
      if (iy < 0 || iy >= c->H) {
        memset(d, 0, sizeof(float) * KW * Ci);
        continue;
      }
      const float *src = c->x + ((b * c->H + iy) * c->W) * Ci;
      for (long kw = 0; kw < KW; kw++) {
        const long ix = ox + kw - c->pl;
        if (ix < 0 || ix >= c->W) {
          memset(d + kw * Ci, 0, sizeof(float) * Ci);
        } else if (Ci == 1) {
          d[kw] = src[ix];
        } else {
          memcpy(d + kw * Ci, src + ix * Ci, sizeof(float) * Ci);
        }
      }
    }
  }
}

static long tb_conv_setup(tb_conv *c) {
  const long Kc = c->KH * c->KW * c->Ci;
  c->rows = c->B * c->Ho * c->Wo;
  /* About 4 MiB of im2col rows per block, so a block stays in cache. */
  long block = (1L << 20) / (Kc > 0 ? Kc : 1);
  if (block < 64) block = 64;
  if (block > 8192) block = 8192;
  c->block = block;
  c->nblocks = (c->rows + block - 1) / block;
  return Kc;
}

static void tb_conv_fwd_task(void *ctx, long b0, long b1) {
  const tb_conv *c = (const tb_conv *)ctx;
  const long Kc = c->KH * c->KW * c->Ci;
  float *col = (float *)malloc(sizeof(float) * c->block * Kc);
  if (!col) abort();
  for (long blk = b0; blk < b1; blk++) {
    const long r0 = blk * c->block;
    const long r1 = r0 + c->block < c->rows ? r0 + c->block : c->rows;
    tb_im2col(c, r0, r1, col);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0),
                (int)c->Co, (int)Kc, 1.0f, col, (int)Kc, c->w, (int)c->Co,
                0.0f, c->y + r0 * c->Co, (int)c->Co);
  }
  free(col);
}

/**
 * y = conv(x, w): y[b,oy,ox,co] = Σ x[b, oy+kh−pt, ox+kw−pl, ci]·w[kh,kw,ci,co]
 * with zeros outside x. pt/pl may be negative (a crop).
 */
void tb_conv2d(const float *x, const float *w, float *y, int B, int H, int W,
               int Ci, int KH, int KW, int Co, int Ho, int Wo, int pt,
               int pl) {
  tb_conv c = {.x = x, .w = w, .y = y, .B = B, .H = H, .W = W, .Ci = Ci,
               .KH = KH, .KW = KW, .Co = Co, .Ho = Ho, .Wo = Wo, .pt = pt,
               .pl = pl};
  const long Kc = tb_conv_setup(&c);
  if (c.rows == 0) return;
  if (Kc == 0) {
    memset(y, 0, sizeof(float) * c.rows * Co);
    return;
  }
  tb_parallel(c.nblocks, 2.0 * c.rows * Kc * Co, tb_conv_fwd_task, &c);
}

/**
 * dx = Aᵀ·dy for y = conv(x, w) with padding (pt, pl): for stride 1 this is a
 * conv of dy with the filter rotated by 180° and its channels swapped, padded
 * by (K−1−pt, K−1−pl).
 */
void tb_conv2d_back_input(const float *dy, const float *w, float *dx, int B,
                          int Ho, int Wo, int Co, int KH, int KW, int Ci,
                          int H, int W, int pt, int pl) {
  const long Kc = (long)KH * KW * Co;
  float *wa = (float *)malloc(sizeof(float) * (Kc * Ci > 0 ? Kc * Ci : 1));
  if (!wa) abort();
  for (long kh = 0; kh < KH; kh++)
    for (long kw = 0; kw < KW; kw++)
      for (long co = 0; co < Co; co++)
        for (long ci = 0; ci < Ci; ci++)
          wa[((kh * KW + kw) * Co + co) * Ci + ci] =
              w[(((KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci + ci) * Co + co];
  tb_conv2d(dy, wa, dx, B, Ho, Wo, Co, KH, KW, Ci, H, W, KH - 1 - pt,
            KW - 1 - pl);
  free(wa);
}

static void tb_conv_filter_task(void *ctx, long g0, long g1) {
  const tb_conv *c = (const tb_conv *)ctx;
  const long Kc = c->KH * c->KW * c->Ci;
  float *col = (float *)malloc(sizeof(float) * c->block * Kc);
  if (!col) abort();
  for (long g = g0; g < g1; g++) {
    float *acc = c->part + g * Kc * c->Co;
    const long blk0 = c->nblocks * g / c->ngroups;
    const long blk1 = c->nblocks * (g + 1) / c->ngroups;
    for (long blk = blk0; blk < blk1; blk++) {
      const long r0 = blk * c->block;
      const long r1 = r0 + c->block < c->rows ? r0 + c->block : c->rows;
      tb_im2col(c, r0, r1, col);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Kc,
                  (int)c->Co, (int)(r1 - r0), 1.0f, col, (int)Kc,
                  c->dy + r0 * c->Co, (int)c->Co, blk == blk0 ? 0.0f : 1.0f,
                  acc, (int)c->Co);
    }
  }
  free(col);
}

/**
 * dw = the filter gradient of y = conv(x, w) given dy:
 * dw[kh,kw,ci,co] = Σ_{b,oy,ox} x[b, oy+kh−pt, ox+kw−pl, ci]·dy[b,oy,ox,co].
 */
void tb_conv2d_back_filter(const float *x, const float *dy, float *dw, int B,
                           int H, int W, int Ci, int KH, int KW, int Co,
                           int Ho, int Wo, int pt, int pl) {
  tb_conv c = {.x = x, .dy = dy, .B = B, .H = H, .W = W, .Ci = Ci, .KH = KH,
               .KW = KW, .Co = Co, .Ho = Ho, .Wo = Wo, .pt = pt, .pl = pl};
  const long Kc = tb_conv_setup(&c);
  const long n = Kc * Co;
  if (c.rows == 0 || n == 0) {
    memset(dw, 0, sizeof(float) * (n > 0 ? n : 0));
    return;
  }
  /* A fixed number of partial sums, however many threads there are. */
  c.ngroups = c.nblocks < 8 ? c.nblocks : 8;
  c.part = c.ngroups == 1 ? dw : (float *)malloc(sizeof(float) * c.ngroups * n);
  if (!c.part) abort();
  tb_parallel(c.ngroups, 2.0 * c.rows * n, tb_conv_filter_task, &c);
  if (c.ngroups > 1) {
    memcpy(dw, c.part, sizeof(float) * n);
    for (long g = 1; g < c.ngroups; g++) {
      const float *p = c.part + g * n;
      for (long i = 0; i < n; i++) dw[i] += p[i];
    }
    free(c.part);
  }
}

/* ------------------------------------------------------------------------ */
/* Matrix product                                                           */
/* ------------------------------------------------------------------------ */

typedef struct {
  const float *a, *b;
  float *c;
  long M, N, K, sa, sb, batch, rowsPer, pieces;
  int ta, tb;
} tb_mm;

static void tb_mm_task(void *ctx, long p0, long p1) {
  const tb_mm *m = (const tb_mm *)ctx;
  for (long p = p0; p < p1; p++) {
    const long bi = p / m->pieces, piece = p % m->pieces;
    const long r0 = piece * m->rowsPer;
    const long r1 = r0 + m->rowsPer < m->M ? r0 + m->rowsPer : m->M;
    if (r0 >= r1) continue;
    const float *a = m->a + bi * m->sa;
    const float *b = m->b + bi * m->sb;
    const long lda = m->ta ? m->M : m->K, ldb = m->tb ? m->K : m->N;
    /* Rows r0.. of op(A): an offset along A's rows, or its columns if A is
       stored transposed. */
    const float *ar = m->ta ? a + r0 : a + r0 * lda;
    cblas_sgemm(CblasRowMajor, m->ta ? CblasTrans : CblasNoTrans,
                m->tb ? CblasTrans : CblasNoTrans, (int)(r1 - r0), (int)m->N,
                (int)m->K, 1.0f, ar, (int)lda, b, (int)ldb, 0.0f,
                m->c + bi * m->M * m->N + r0 * m->N, (int)m->N);
  }
}

/**
 * c[i] = op(a[i])·op(b[i]) for i < batch, with op a transpose when ta / tb is
 * set; sa / sb are the element strides between batch items (0 broadcasts).
 */
void tb_batch_matmul(const float *a, const float *b, float *c, int batch,
                     int M, int N, int K, int ta, int tb, long sa, long sb) {
  tb_mm m = {.a = a, .b = b, .c = c, .M = M, .N = N, .K = K, .sa = sa,
             .sb = sb, .batch = batch, .ta = ta, .tb = tb};
  if ((long)M * N == 0) return;
  if (K == 0) {
    memset(c, 0, sizeof(float) * (long)batch * M * N);
    return;
  }
  /* Row pieces of at least 256 rows, fixed by the shape. */
  m.pieces = M >= 512 ? M / 256 : 1;
  if (m.pieces > 16) m.pieces = 16;
  m.rowsPer = (M + m.pieces - 1) / m.pieces;
  tb_parallel(batch * m.pieces, 2.0 * batch * M * N * K, tb_mm_task, &m);
}

/* ------------------------------------------------------------------------ */
/* Reductions over a middle axis                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
  const float *x;
  double *part; /* [A, S, C] */
  long A, R, C, S;
} tb_red;

static void tb_red_task(void *ctx, long t0, long t1) {
  const tb_red *r = (const tb_red *)ctx;
  for (long t = t0; t < t1; t++) {
    const long a = t / r->S, s = t % r->S;
    const long i0 = r->R * s / r->S, i1 = r->R * (s + 1) / r->S;
    double *acc = r->part + t * r->C;
    for (long c = 0; c < r->C; c++) acc[c] = 0.0;
    const float *src = r->x + (a * r->R + i0) * r->C;
    for (long i = i0; i < i1; i++, src += r->C)
      for (long c = 0; c < r->C; c++) acc[c] += src[c];
  }
}

/**
 * y[a, c] = Σ_r x[a, r, c] / divisor for x viewed as [A, R, C], accumulated
 * in float64 (one rounding to float32 at the end).
 */
void tb_reduce_sum_mid(const float *x, float *y, long A, long R, long C,
                       double divisor) {
  tb_red r = {.x = x, .A = A, .R = R, .C = C};
  /* Split long reductions into a shape-fixed number of float64 partials. */
  r.S = A >= 8 ? 1 : (R >= 4096 ? 16 : 1);
  r.part = (double *)malloc(sizeof(double) * (A * r.S * C > 0 ? A * r.S * C : 1));
  if (!r.part) abort();
  tb_parallel(A * r.S, (double)A * R * C, tb_red_task, &r);
  for (long a = 0; a < A; a++)
    for (long c = 0; c < C; c++) {
      double s = 0.0;
      for (long k = 0; k < r.S; k++) s += r.part[(a * r.S + k) * C + c];
      y[a * C + c] = (float)(s / divisor);
    }
  free(r.part);
}

/* ------------------------------------------------------------------------ */
/* 2×2 average pooling, stride 2                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
  const float *in;
  float *out;
  long H, W, C, Ho, Wo;
} tb_pool;

static void tb_pool_fwd_task(void *ctx, long b0, long b1) {
  const tb_pool *p = (const tb_pool *)ctx;
  const long H = p->H, W = p->W, C = p->C, Ho = p->Ho, Wo = p->Wo;
  for (long b = b0; b < b1; b++)
    for (long oy = 0; oy < Ho; oy++)
      for (long ox = 0; ox < Wo; ox++) {
        const float *s0 = p->in + ((b * H + 2 * oy) * W + 2 * ox) * C;
        const float *s1 = s0 + W * C;
        float *d = p->out + ((b * Ho + oy) * Wo + ox) * C;
        for (long c = 0; c < C; c++)
          d[c] = ((s0[c] + s0[C + c]) + (s1[c] + s1[C + c])) * 0.25f;
      }
}

/** y = 2×2 mean pooling, stride 2, of x [B, H, W, C] (floor on odd sizes). */
void tb_avgpool2(const float *x, float *y, int B, int H, int W, int C) {
  tb_pool p = {.in = x, .out = y, .H = H, .W = W, .C = C, .Ho = H / 2,
               .Wo = W / 2};
  tb_parallel(B, (double)B * H * W * C, tb_pool_fwd_task, &p);
}

static void tb_pool_back_task(void *ctx, long b0, long b1) {
  const tb_pool *p = (const tb_pool *)ctx;
  const long H = p->H, W = p->W, C = p->C, Ho = p->Ho, Wo = p->Wo;
  for (long b = b0; b < b1; b++)
    for (long iy = 0; iy < H; iy++) {
      float *d = p->out + (b * H + iy) * W * C;
      const long oy = iy / 2;
      if (oy >= Ho) {
        memset(d, 0, sizeof(float) * W * C);
        continue;
      }
      for (long ix = 0; ix < W; ix++, d += C) {
        const long ox = ix / 2;
        if (ox >= Wo) {
          memset(d, 0, sizeof(float) * C);
          continue;
        }
        const float *s = p->in + ((b * Ho + oy) * Wo + ox) * C;
        for (long c = 0; c < C; c++) d[c] = s[c] * 0.25f;
      }
    }
}

/**
 * dx = the gradient of {@link tb_avgpool2} for an input of H × W given dy
 * [B, H/2, W/2, C]; the row / column an odd size leaves out gets zero.
 */
void tb_avgpool2_back(const float *dy, float *dx, int B, int H, int W, int C) {
  tb_pool p = {.in = dy, .out = dx, .H = H, .W = W, .C = C, .Ho = H / 2,
               .Wo = W / 2};
  tb_parallel(B, (double)B * H * W * C, tb_pool_back_task, &p);
}

/* ------------------------------------------------------------------------ */
/* Elementwise operations                                                   */
/* ------------------------------------------------------------------------ */

enum { TB_ADD = 0, TB_SUB = 1, TB_MUL = 2, TB_DIV = 3 };

#define TB_MAX_RANK 8

typedef struct {
  const float *a, *b;
  float *y;
  int op, rank;
  long dim[TB_MAX_RANK], sa[TB_MAX_RANK], sb[TB_MAX_RANK];
  long outer; /* product of every dimension but the last */
} tb_bin;

/* One inner run of n outputs; the op and the stride pattern are fixed per
   call so each loop below vectorises. */
#define TB_RUN(EXPR)                                                        \
  do {                                                                      \
    if (ia && ib)                                                           \
      for (long i = 0; i < n; i++) { float x = a[i], z = b[i]; y[i] = EXPR; } \
    else if (ia)                                                            \
      for (long i = 0; i < n; i++) { float x = a[i], z = b[0]; y[i] = EXPR; } \
    else if (ib)                                                            \
      for (long i = 0; i < n; i++) { float x = a[0], z = b[i]; y[i] = EXPR; } \
    else                                                                    \
      for (long i = 0; i < n; i++) { float x = a[0], z = b[0]; y[i] = EXPR; } \
  } while (0)

static void tb_bin_run(int op, const float *a, const float *b, float *y,
                       long n, long ia, long ib) {
  switch (op) {
    case TB_ADD: TB_RUN(x + z); break;
    case TB_SUB: TB_RUN(x - z); break;
    case TB_MUL: TB_RUN(x * z); break;
    default: TB_RUN(x / z); break;
  }
}

static void tb_bin_task(void *ctx, long o0, long o1) {
  const tb_bin *t = (const tb_bin *)ctx;
  const int r = t->rank;
  const long n = t->dim[r - 1];
  long idx[TB_MAX_RANK] = {0};
  long rem = o0, offA = 0, offB = 0;
  for (int d = r - 2; d >= 0; d--) {
    idx[d] = rem % t->dim[d];
    rem /= t->dim[d];
    offA += idx[d] * t->sa[d];
    offB += idx[d] * t->sb[d];
  }
  for (long o = o0; o < o1; o++) {
    tb_bin_run(t->op, t->a + offA, t->b + offB, t->y + o * n, n,
               t->sa[r - 1], t->sb[r - 1]);
    for (int d = r - 2; d >= 0; d--) {
      offA += t->sa[d];
      offB += t->sb[d];
      if (++idx[d] < t->dim[d]) break;
      offA -= idx[d] * t->sa[d];
      offB -= idx[d] * t->sb[d];
      idx[d] = 0;
    }
  }
}

/**
 * y = a ∘ b elementwise with broadcasting (op: 0 add, 1 sub, 2 mul, 3 div).
 * dim is the output shape; sa / sb are each operand's element strides per
 * output axis, 0 along a broadcast axis. Every result is one IEEE operation
 * on the same two floats as any other implementation, so it is bit-identical.
 */
void tb_binary(int op, const float *a, const float *b, float *y, int rank,
               const int *dim, const int *sa, const int *sb) {
  tb_bin t = {.a = a, .b = b, .y = y, .op = op};
  /* Merge axes that both operands step through contiguously (a broadcast
     axis of stride 0 merges with a broadcast neighbour too). */
  int r = 0;
  long total = 1;
  for (int d = 0; d < rank; d++) {
    total *= dim[d];
    if (dim[d] == 1) continue;
    if (r > 0 && t.sa[r - 1] == (long)sa[d] * dim[d] &&
        t.sb[r - 1] == (long)sb[d] * dim[d]) {
      t.dim[r - 1] *= dim[d];
      t.sa[r - 1] = sa[d];
      t.sb[r - 1] = sb[d];
      continue;
    }
    if (r == TB_MAX_RANK) return; /* cannot happen for rank <= 8 */
    t.dim[r] = dim[d];
    t.sa[r] = sa[d];
    t.sb[r] = sb[d];
    r++;
  }
  if (total == 0) return;
  if (r == 0) {
    t.dim[0] = 1;
    t.sa[0] = t.sb[0] = 0;
    r = 1;
  }
  t.rank = r;
  t.outer = total / t.dim[r - 1];
  tb_parallel(t.outer, (double)total * 4, tb_bin_task, &t);
}

enum { TB_RELU = 0, TB_STEP = 1, TB_SQUARE = 2 };

typedef struct {
  const float *x;
  float *y;
  int op;
  float alpha;
} tb_un;

static void tb_un_task(void *ctx, long i0, long i1) {
  const tb_un *t = (const tb_un *)ctx;
  const float *x = t->x;
  float *y = t->y;
  const float alpha = t->alpha;
  switch (t->op) {
    case TB_RELU:
      /* max(0, x) as TensorFlow.js: NaN passes through, −0 becomes 0. */
      for (long i = i0; i < i1; i++)
        y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
      break;
    case TB_STEP:
      for (long i = i0; i < i1; i++)
        y[i] = x[i] > 0.0f ? 1.0f : (x[i] != x[i] ? x[i] : alpha);
      break;
    default:
      for (long i = i0; i < i1; i++) y[i] = x[i] * x[i];
      break;
  }
}

/** y = op(x) elementwise (op: 0 relu, 1 step with alpha, 2 square). */
void tb_unary(int op, const float *x, float *y, long n, float alpha) {
  tb_un t = {.x = x, .y = y, .op = op, .alpha = alpha};
  tb_parallel(n, (double)n * 2, tb_un_task, &t);
}
