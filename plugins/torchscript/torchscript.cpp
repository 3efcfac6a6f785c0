/*
 * torchscript.cpp — a model plugin that trains any scripted PyTorch module
 * (torch.jit.script / torch.jit.trace, saved with torch.jit.save) with
 * libtorch, behind lsgd's C model ABI (lsgd/model.h).
 *
 *   "model": {"plugin": "torchscript", "params": {"file": "lenet5.pt"}}
 *
 * The module maps a batch [n, C, H, W] (the data's sample shape; [n, d]
 * for flat rows) to scores [n, classes]; the loss is the mean softmax
 * cross-entropy.  Its parameters, in named_parameters() order, are laid
 * over lsgd's flat vector x: each one becomes a torch::from_blob view of
 * x[offset ..], rebound only when the host passes another x, so a step
 * copies no parameter.  Gradients come from autograd, the Hessian-vector
 * product from double backward (the gradient of gᵀv); x₀ is the module's
 * own saved parameters (export with the seed you want).
 *
 * C++ stays inside: every op catches what libtorch throws and returns it
 * as one line in err.  libtorch runs on one intra-op thread (the workers
 * are the parallelism).
 */
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <cstring>
#include <string>
#include <vector>

#include <lsgd/model.h>

namespace {

struct tensor_view {
    std::string name;
    std::vector<int64_t> shape;
    size_t offset, size;
};

struct torchscript_model {
    torch::jit::script::Module module;
    std::vector<torch::Tensor> params;     // the module's parameters, viewing x
    std::vector<tensor_view> views;
    std::vector<lsgd_model_tensor> tensors; // describe's, pointing into views
    std::vector<float> initial;             // x₀: the saved parameters
    std::vector<int64_t> input_shape;       // one sample's shape
    std::vector<float> dense;               // sparse batches densified
    const float *bound = nullptr;           // the x the params view
    size_t dim = 0;
    int classes = 0;
};

/* One line for err: c10 errors without their backtrace, newlines as spaces. */
int fail(lsgd_error *err, int code, const char *op, const std::exception &e)
{
    const c10::Error *c10 = dynamic_cast<const c10::Error *>(&e);
    std::string what = c10 ? c10->what_without_backtrace() : e.what();
    size_t cut = what.find('\n');
    if (cut != std::string::npos)
        what.resize(cut);
    return lsgd_error_set(err, code, "torchscript: %s: %s", op, what.c_str());
}

/* The module's parameters view x: rebound (no copy) when x moved. */
void bind(torchscript_model *m, const float *x)
{
    if (m->bound == x)
        return;
    float *base = const_cast<float *>(x); // read only: the gradient goes elsewhere
    for (size_t k = 0; k < m->params.size(); k++)
        m->params[k].set_data(torch::from_blob(base + m->views[k].offset, m->views[k].shape));
    m->bound = x;
}

/* The batch as [n, sample shape] (views the host's rows; sparse rows
 * densified into m->dense) and its labels as class indices. */
torch::Tensor batch_input(torchscript_model *m, const lsgd_model_batch *b)
{
    std::vector<int64_t> shape{(int64_t)b->n};
    shape.insert(shape.end(), m->input_shape.begin(), m->input_shape.end());
    const float *rows = b->dense;
    if (!rows) {
        m->dense.assign(b->n * b->features, 0.0f);
        for (size_t i = 0; i < b->n; i++)
            for (size_t k = b->row_ptr[i]; k < b->row_ptr[i + 1]; k++)
                m->dense[i * b->features + b->col[k]] = b->val[k];
        rows = m->dense.data();
    }
    return torch::from_blob(const_cast<float *>(rows), shape);
}

torch::Tensor batch_labels(const lsgd_model_batch *b)
{
    return torch::from_blob(const_cast<float *>(b->labels), {(int64_t)b->n}).to(torch::kLong);
}

torch::Tensor forward_loss(torchscript_model *m, const float *x, const lsgd_model_batch *b,
                           torch::Tensor *scores = nullptr)
{
    bind(m, x);
    // The module's ops run one by one as in eager mode, each recorded by
    // autograd: the graph executor's optimized plan (differentiable
    // subgraphs) made a ResNet-8 step 2-8% slower than PyTorch eager.
    torch::jit::GraphOptimizerEnabledGuard eager_like(false);
    torch::Tensor out = m->module.forward({batch_input(m, b)}).toTensor();
    if (scores)
        *scores = out;
    return at::cross_entropy_loss(out, batch_labels(b));
}

/* dst[dim] ← the tensors, in parameter order. */
void gather(float *dst, const torchscript_model *m, const std::vector<torch::Tensor> &t)
{
    for (size_t k = 0; k < t.size(); k++) {
        torch::Tensor c = t[k].defined() ? t[k].contiguous() : torch::Tensor();
        if (c.defined())
            std::memcpy(dst + m->views[k].offset, c.data_ptr<float>(),
                        m->views[k].size * sizeof(float));
        else
            std::memset(dst + m->views[k].offset, 0, m->views[k].size * sizeof(float));
    }
}

/* ---- the ops ---- */

int ts_load(torchscript_model *m, const char *file, const lsgd_model_data *data, lsgd_error *err)
{
    m->module = torch::jit::load(file);
    m->module.train(false);
    for (const auto &p : m->module.named_parameters(true)) {
        torch::Tensor t = p.value;
        if (t.scalar_type() != torch::kFloat || t.dim() > 4)
            return lsgd_error_set(err, LSGD_ERR_INPUT,
                                  "torchscript: %s: parameter %s is not a float32 tensor of "
                                  "rank <= 4", file, p.name.c_str());
        tensor_view v{p.name, t.sizes().vec(), m->dim, (size_t)t.numel()};
        m->dim += v.size;
        m->views.push_back(v);
        m->params.push_back(t);
        torch::Tensor c = t.detach().contiguous();
        m->initial.insert(m->initial.end(), c.data_ptr<float>(), c.data_ptr<float>() + v.size);
    }
    if (m->dim == 0)
        return lsgd_error_set(err, LSGD_ERR_INPUT, "torchscript: %s has no parameters", file);
    for (const tensor_view &v : m->views) {
        lsgd_model_tensor t{};
        t.name = v.name.c_str();
        t.offset = v.offset;
        t.rank = v.shape.size();
        for (size_t r = 0; r < t.rank; r++)
            t.shape[r] = (size_t)v.shape[r];
        m->tensors.push_back(t);
    }
    if (data->sample_shape[0])
        m->input_shape.assign(data->sample_shape, data->sample_shape + 3);
    else
        m->input_shape.assign(1, (int64_t)data->features);
    m->classes = data->classes;
    return LSGD_OK;
}

int ts_create(void **self, const lsgd_params *params, const lsgd_model_data *data, size_t *dim,
              lsgd_error *err)
{
    *self = nullptr;
    if (data->classes < 2)
        return lsgd_error_set(err, LSGD_ERR_INPUT,
                              "torchscript: the loss is softmax cross-entropy, which needs "
                              "class labels; the training set has regression targets");
    const char *file = lsgd_param_string(params, "file");
    torchscript_model *m = new (std::nothrow) torchscript_model;
    if (!m)
        return lsgd_error_set(err, LSGD_ERR_RUNTIME, "torchscript: out of memory");
    int rc;
    try {
        at::set_num_threads(1);
        rc = ts_load(m, file, data, err);
    } catch (const std::exception &e) {
        rc = fail(err, LSGD_ERR_INPUT, file, e);
    }
    if (rc != LSGD_OK) {
        delete m;
        return rc;
    }
    *dim = m->dim;
    *self = m;
    return LSGD_OK;
}

void ts_destroy(void *self)
{
    delete static_cast<torchscript_model *>(self);
}

size_t ts_describe(const void *self, const lsgd_model_tensor **tensors)
{
    const torchscript_model *m = static_cast<const torchscript_model *>(self);
    *tensors = m->tensors.data();
    return m->tensors.size();
}

void ts_init(const void *self, float *x, uint64_t seed)
{
    (void)seed; /* x₀ is the module's saved parameters */
    const torchscript_model *m = static_cast<const torchscript_model *>(self);
    std::memcpy(x, m->initial.data(), m->dim * sizeof *x);
}

int ts_loss_grad(void *self, const float *x, const lsgd_model_batch *b, double *loss,
                 float *grad, lsgd_error *err)
{
    torchscript_model *m = static_cast<torchscript_model *>(self);
    try {
        if (!grad) {
            torch::NoGradGuard no_grad;
            *loss = forward_loss(m, x, b).item<double>();
            return LSGD_OK;
        }
        torch::Tensor l = forward_loss(m, x, b);
        gather(grad, m, torch::autograd::grad({l}, m->params, {}, false, false, true));
        *loss = l.item<double>();
        return LSGD_OK;
    } catch (const std::exception &e) {
        return fail(err, LSGD_ERR_RUNTIME, "loss_grad", e);
    }
}

/* H·v = ∇(gᵀv), g = ∇loss kept in the graph (double backward). */
int ts_hvp(void *self, const float *x, const lsgd_model_batch *b, const float *v, float *out,
           lsgd_error *err)
{
    torchscript_model *m = static_cast<torchscript_model *>(self);
    try {
        torch::Tensor l = forward_loss(m, x, b);
        auto g = torch::autograd::grad({l}, m->params, {}, true, true, true);
        torch::Tensor gv = torch::zeros({}, torch::kFloat);
        for (size_t k = 0; k < g.size(); k++) {
            float *vk = const_cast<float *>(v) + m->views[k].offset;
            if (g[k].defined())
                gv = gv + (g[k] * torch::from_blob(vk, m->views[k].shape)).sum();
        }
        gather(out, m, torch::autograd::grad({gv}, m->params, {}, false, false, true));
        return LSGD_OK;
    } catch (const std::exception &e) {
        return fail(err, LSGD_ERR_RUNTIME, "hvp", e);
    }
}

int ts_evaluate(void *self, const float *x, const lsgd_model_batch *b, double *loss,
                double *accuracy, lsgd_error *err)
{
    torchscript_model *m = static_cast<torchscript_model *>(self);
    try {
        torch::NoGradGuard no_grad; // not InferenceMode: the module's graph executor keeps the
                                    // autograd plan of its training calls, which would
                                    // then try to save inference tensors for backward
        torch::Tensor scores;
        *loss = forward_loss(m, x, b, &scores).item<double>();
        torch::Tensor right = scores.argmax(1).eq(batch_labels(b));
        *accuracy = right.to(torch::kDouble).mean().item<double>();
        return LSGD_OK;
    } catch (const std::exception &e) {
        return fail(err, LSGD_ERR_RUNTIME, "evaluate", e);
    }
}

const lsgd_model_plugin_ops torchscript_ops = {
    sizeof(lsgd_model_plugin_ops), ts_create, ts_destroy, ts_describe, ts_init,
    ts_loss_grad, ts_evaluate, ts_hvp,
};

} // namespace

extern "C" {
LSGD_PLUGIN(LSGD_KIND_MODEL, "torchscript", "1.0.0", &torchscript_ops);
}
