"""ONNX export of a fitted GLM's prediction: ``results.to_onnx()`` (optional ``onnx``).

The graph computes, in float64,

    eta = X @ params + offset,     mu = link^-1(eta)

with inputs ``X`` (n x k: the model's design columns, ``exog_names``, the constant
included; for formula fits the rows of the design, not the raw data frame) and, when asked,
``offset`` (n; the offset plus log(exposure)); outputs ``mu`` and ``eta``. Aliased
coefficients count as 0, as in ``predict``. onnxruntime reproduces ``predict`` to
rounding (tests/test_deployment.py).

Multi-class models (``MNLogitResults``, ``PenalizedMNLogitResults``, a multi-class
``GLMClassifier``; :func:`softmax_model`) compute eta = X @ B' + intercept (n x K), and
output ``probabilities`` = softmax(eta) (n x K), ``label`` (the class of the largest
probability, as ``predict``) and ``eta``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .families import links as L

__all__ = ["softmax_model", "to_onnx"]


def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:   # pragma: no cover - depends on the environment
        raise ImportError("to_onnx needs the onnx package: pip install 'glmkit[onnx]' "
                          "(and onnxruntime to run the exported model).") from e
    return onnx, TensorProto, helper, numpy_helper


class _Graph:
    """Nodes and constants of the graph under construction (float64 throughout)."""

    def __init__(self, helper, numpy_helper):
        self.h, self.nh = helper, numpy_helper
        self.nodes: list = []
        self.inits: list = []
        self._k = 0

    def const(self, value) -> str:
        self._k += 1
        name = f"c{self._k}"
        self.inits.append(self.nh.from_array(np.asarray(value, dtype=np.float64), name))
        return name

    def op(self, op: str, *inputs: str, out: str | None = None, **attrs: Any) -> str:
        self._k += 1
        out = out or f"t{self._k}"
        self.nodes.append(self.h.make_node(op, list(inputs), [out], **attrs))
        return out


def _inverse_link(g: _Graph, link, eta: str) -> str:
    """Nodes computing mu = link^-1(eta); NotImplementedError for links without one."""
    def one() -> str:
        return g.const(1.0)

    if isinstance(link, L.Identity):
        return g.op("Identity", eta)
    if isinstance(link, L.Log):
        return g.op("Exp", eta)
    if isinstance(link, L.Logit):
        return g.op("Sigmoid", eta)
    if isinstance(link, L.Probit):   # Phi(eta) = (1 + erf(eta / sqrt 2)) / 2
        z = g.op("Mul", eta, g.const(1.0 / math.sqrt(2.0)))
        return g.op("Mul", g.op("Add", one(), _float32_op(g, "Erf", z)), g.const(0.5))
    if isinstance(link, L.Cauchy):
        return g.op("Add", g.const(0.5), g.op("Mul", _float32_op(g, "Atan", eta),
                                              g.const(1 / math.pi)))
    if isinstance(link, L.CLogLog):   # 1 - exp(-exp(eta))
        return g.op("Sub", one(), g.op("Exp", g.op("Neg", g.op("Exp", eta))))
    if isinstance(link, L.LogLog):    # exp(-exp(-eta))
        return g.op("Exp", g.op("Neg", g.op("Exp", g.op("Neg", eta))))
    if isinstance(link, L.LogC):      # 1 - exp(eta)
        return g.op("Sub", one(), g.op("Exp", eta))
    if isinstance(link, L.NegativeBinomial):   # exp(eta) / (alpha (1 - exp(eta)))
        e = g.op("Exp", eta)
        return g.op("Div", e, g.op("Mul", g.const(link.alpha), g.op("Sub", one(), e)))
    if isinstance(link, L.Power):     # InversePower, InverseSquared, Sqrt included
        p = float(link.power)
        if p == 1.0:
            return g.op("Identity", eta)
        return g.op("Pow", eta, g.const(1.0 / p))
    raise NotImplementedError(f"ONNX export of the {type(link).__name__} link is not "
                              "available; glmkit exports the built-in links.")


def onnx_model(params, link, input_names, offset: bool, doc: str = "",
               intercept: float = 0.0):
    """An ONNX ModelProto for eta = X @ params (+ intercept) (+ offset), mu = link^-1(eta)."""
    onnx, TensorProto, helper, numpy_helper = _onnx()
    b = np.asarray(params, dtype=np.float64).ravel()
    b = np.where(np.isnan(b), 0.0, b)
    k = b.size
    g = _Graph(helper, numpy_helper)
    xb = g.op("MatMul", "X", g.const(b.reshape(k, 1)))
    eta0 = g.op("Reshape", xb, _int_const(g, [-1]))
    if intercept != 0.0:
        eta0 = g.op("Add", eta0, g.const(float(intercept)))
    eta = g.op("Add", eta0, "offset", out="eta") if offset else g.op("Identity", eta0,
                                                                      out="eta")
    mu = _inverse_link(g, link, eta)
    g.op("Identity", mu, out="mu")
    inputs = [helper.make_tensor_value_info("X", TensorProto.DOUBLE, ["n", k])]
    if offset:
        inputs.append(helper.make_tensor_value_info("offset", TensorProto.DOUBLE, ["n"]))
    outputs = [helper.make_tensor_value_info(name, TensorProto.DOUBLE, ["n"])
               for name in ("mu", "eta")]
    graph = helper.make_graph(g.nodes, "glmkit_glm", inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, producer_name="glmkit",
                              opset_imports=[helper.make_opsetid("", 17)], doc_string=doc)
    model.ir_version = min(model.ir_version, 8)
    helper.set_model_props(model, {"columns": ",".join(map(str, input_names)),
                                   "link": type(link).__name__})
    onnx.checker.check_model(model)
    return model


def _float32_op(g: _Graph, op: str, x: str) -> str:
    """``op`` in float32: onnxruntime has no float64 kernels for Erf and Atan (absolute
    error ~1e-7 in mu)."""
    from onnx import TensorProto

    y = g.op(op, g.op("Cast", x, to=TensorProto.FLOAT))
    return g.op("Cast", y, to=TensorProto.DOUBLE)


def _int_const(g: _Graph, value) -> str:
    g._k += 1
    name = f"c{g._k}"
    g.inits.append(g.nh.from_array(np.asarray(value, dtype=np.int64), name))
    return name


def to_onnx(results, path=None, offset: bool | None = None):
    """Export ``results``' prediction (a GLMResults or RegularizedResults) to ONNX.

    Parameters
    ----------
    path : optional file to write (``onnx.save``); the model is returned either way.
    offset : add an ``offset`` input (the offset plus log exposure); default: when the
        model was fitted with an offset or exposure.

    Returns
    -------
    onnx.ModelProto with inputs ``X`` (n x k, the columns ``exog_names``, stored in the
    model's metadata ``columns``) and ``offset``; outputs ``mu`` and ``eta`` (float64).
    """
    model = results.model
    if offset is None:
        offset = model.data.offset is not None or model.data.exposure is not None
    params = np.asarray(results.params, dtype=float)
    proto = onnx_model(params, model.family.link, model.exog_names, bool(offset),
                       doc=f"glmkit GLM {model.family.name} prediction")
    if path is not None:
        import onnx

        onnx.save(proto, str(path))
    return proto


def _label_tensor(numpy_helper, classes, name: str):
    """The class labels as a constant: int64, float64 or (text labels) string."""
    c = np.asarray(classes)
    if c.dtype.kind in "iub":
        return numpy_helper.from_array(c.astype(np.int64), name), "int64"
    if c.dtype.kind == "f":
        return numpy_helper.from_array(c.astype(np.float64), name), "float64"
    return numpy_helper.from_array(np.array([str(v).encode() for v in c], dtype=object),
                                   name), "string"


def softmax_model(coef, intercept, classes, input_names, offset: bool = False,
                  doc: str = ""):
    """An ONNX ModelProto of a multinomial logit: eta = X @ coef' + intercept (n x K),
    outputs ``probabilities`` (softmax of eta), ``label`` (classes[argmax]) and ``eta``.

    Parameters
    ----------
    coef : (K, k) one row per class (a reference class's row of zeros included).
    intercept : (K,) added to eta (zeros when X holds the constant column).
    classes : the K labels (numbers or text; text labels give a string ``label``).
    input_names : the k columns of X, stored in the metadata ``columns``.
    """
    if offset:
        raise ValueError("a multi-class model has no offset input: one offset per row "
                         "shifts every class alike and changes no probability.")
    onnx, TensorProto, helper, numpy_helper = _onnx()
    B = np.asarray(coef, dtype=np.float64)
    B = np.where(np.isnan(B), 0.0, B)
    K, k = B.shape
    g = _Graph(helper, numpy_helper)
    eta = g.op("Add", g.op("MatMul", "X", g.const(B.T.copy())),
               g.const(np.asarray(intercept, dtype=np.float64).reshape(1, K)), out="eta")
    g.op("Softmax", eta, out="probabilities", axis=1)
    idx = g.op("ArgMax", eta, axis=1, keepdims=0)
    labels, kind = _label_tensor(numpy_helper, classes, "classes")
    g.inits.append(labels)
    g.op("Gather", "classes", idx, out="label", axis=0)
    elem = {"int64": TensorProto.INT64, "float64": TensorProto.DOUBLE,
            "string": TensorProto.STRING}[kind]
    inputs = [helper.make_tensor_value_info("X", TensorProto.DOUBLE, ["n", k])]
    outputs = [helper.make_tensor_value_info("probabilities", TensorProto.DOUBLE, ["n", K]),
               helper.make_tensor_value_info("label", elem, ["n"]),
               helper.make_tensor_value_info("eta", TensorProto.DOUBLE, ["n", K])]
    graph = helper.make_graph(g.nodes, "glmkit_multinomial", inputs, outputs,
                              initializer=g.inits)
    model = helper.make_model(graph, producer_name="glmkit",
                              opset_imports=[helper.make_opsetid("", 17)], doc_string=doc)
    model.ir_version = min(model.ir_version, 8)
    helper.set_model_props(model, {"columns": ",".join(map(str, input_names)),
                                   "classes": ",".join(map(str, classes))})
    onnx.checker.check_model(model)
    return model


def multiclass_to_onnx(coef, classes, input_names, path=None, doc: str = ""):
    """``softmax_model`` of results whose design holds the constant column; written to
    ``path`` when given."""
    proto = softmax_model(coef, np.zeros(np.asarray(coef).shape[0]), classes, input_names,
                          doc=doc)
    if path is not None:
        import onnx

        onnx.save(proto, str(path))
    return proto
