"""TF1's optimizers (GradientDescent, Momentum, Adam, Adagrad, RMSProp, Adadelta, Ftrl).

Each `_apply_dense` writes the update equations of TF1's `ApplyX` kernel
(core/kernels/training_ops.cc) as elementwise ops on the variable, its slots and the gradient,
in the kernel's order and association, with assign/assign_add/assign_sub committing each new
value; the var update reads the slots' new values, so one op (the last assign) depends on all
of them. Hyper-parameters are cast to the variable's dtype as TF1 does, so a float32 rate
applied to a float64 variable is the float32 value widened.
"""
from __future__ import annotations

from lowerflow.frontend.core_ops import group
from lowerflow.frontend.graph import get_default_graph
from lowerflow.frontend.init_ops import Constant, Ones
from lowerflow.frontend import math_ops
from lowerflow.frontend.math_ops import greater, maximum, rsqrt, sign, sqrt, square, where
from lowerflow.frontend.training.optimizer import Optimizer, ref
from lowerflow.frontend.variables import assign, assign_add, assign_sub


class GradientDescentOptimizer(Optimizer):
    """var -= lr * grad."""

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        return assign_sub(ref(var), grad * self._cast(self._learning_rate_tensor, var))


class MomentumOptimizer(Optimizer):
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov: lr * (grad + momentum * accum))."""

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")

    def _apply_dense(self, grad, var):
        accum = self.get_slot(var, "momentum")
        lr = self._cast(self._learning_rate_tensor, var)
        momentum = self._cast(self._momentum_tensor, var)
        accum_t = assign(ref(accum), ref(accum) * momentum + grad)
        if self._use_nesterov:
            return assign_sub(ref(var), grad * lr + accum_t * momentum * lr)
        return assign_sub(ref(var), accum_t * lr)


class AdamOptimizer(Optimizer):
    """Adam with TF1's bias correction folded into the step size; `beta1_power` and
    `beta2_power` are non-slot variables updated after every variable's update."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon

    def _get_beta_accumulators(self):
        graph = get_default_graph()
        return (self._get_non_slot_variable("beta1_power", graph),
                self._get_non_slot_variable("beta2_power", graph))

    def _create_slots(self, var_list):
        first_var = min(var_list, key=lambda x: x.name)
        self._create_non_slot_variable(self._beta1, "beta1_power", first_var)
        self._create_non_slot_variable(self._beta2, "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "learning_rate")
        self._beta1_t = self._hyper(self._beta1, "beta1")
        self._beta2_t = self._hyper(self._beta2, "beta2")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        beta1_power, beta2_power = (self._cast(ref(p), var) for p in self._get_beta_accumulators())
        lr, beta1, beta2, epsilon = (self._cast(t, var) for t in
                                     (self._lr_t, self._beta1_t, self._beta2_t, self._epsilon_t))
        alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
        m_t = assign_add(ref(m), (grad - ref(m)) * (1 - beta1))
        v_t = assign_add(ref(v), (square(grad) - ref(v)) * (1 - beta2))
        return assign_sub(ref(var), (m_t * alpha) / (sqrt(v_t) + epsilon))

    def _finish(self, update_ops, name_scope):
        with get_default_graph().control_dependencies(update_ops):
            beta1_power, beta2_power = self._get_beta_accumulators()
            update_beta1 = beta1_power.assign(ref(beta1_power) * self._beta1_t)
            update_beta2 = beta2_power.assign(ref(beta2_power) * self._beta2_t)
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)


class AdagradOptimizer(Optimizer):
    """accum += grad²; var -= lr * grad / sqrt(accum)."""

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            self._get_or_make_slot_with_initializer(
                v, Constant(self._initial_accumulator_value, dtype=dtype), v.get_shape(), dtype,
                "accumulator", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad, var):
        acc = self.get_slot(var, "accumulator")
        accum_t = assign_add(ref(acc), square(grad))
        return assign_sub(ref(var), grad * self._cast(self._learning_rate_tensor, var) * rsqrt(accum_t))


class RMSPropOptimizer(Optimizer):
    """ms += (grad² - ms)(1 - decay); mom = mom * momentum + lr * grad / sqrt(ms + eps);
    var -= mom. Centered: the mean gradient mg is tracked and ms - mg² replaces ms."""

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False,
                 centered=False, name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay = learning_rate, decay
        self._momentum, self._epsilon, self._centered = momentum, epsilon, centered

    def _create_slots(self, var_list):
        for v in var_list:
            dtype = v.dtype.base_dtype
            self._get_or_make_slot_with_initializer(v, Ones(dtype=dtype), v.get_shape(), dtype,
                                                    "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper(self._decay, "decay")
        self._momentum_tensor = self._hyper(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        lr, rho, momentum, epsilon = (self._cast(t, var) for t in (
            self._learning_rate_tensor, self._decay_tensor, self._momentum_tensor,
            self._epsilon_tensor))
        ms_t = assign_add(ref(rms), (square(grad) - ref(rms)) * (1 - rho))
        if self._centered:
            mg = self.get_slot(var, "mg")
            mg_t = assign_add(ref(mg), (grad - ref(mg)) * (1 - rho))
            denom = (ms_t - square(mg_t)) + epsilon
        else:
            denom = ms_t + epsilon
        mom_t = assign(ref(mom), ref(mom) * momentum + (grad * lr) / sqrt(denom))
        return assign_sub(ref(var), mom_t)


class AdadeltaOptimizer(Optimizer):
    """accum = rho·accum + (1-rho)·grad²; update = sqrt(accum_update + eps) / sqrt(accum + eps)
    · grad; var -= lr · update; then accum_update = rho·accum_update + (1-rho)·update²."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon

    def _create_slots(self, var_list):
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self):
        self._lr_t = self._hyper(self._lr, "lr")
        self._rho_t = self._hyper(self._rho, "rho")
        self._epsilon_t = self._hyper(self._epsilon, "epsilon")

    def _apply_dense(self, grad, var):
        accum, accum_update = self.get_slot(var, "accum"), self.get_slot(var, "accum_update")
        lr, rho, epsilon = (self._cast(t, var) for t in (self._lr_t, self._rho_t, self._epsilon_t))
        accum_t = assign(ref(accum), ref(accum) * rho + square(grad) * (1 - rho))
        update = sqrt(ref(accum_update) + epsilon) * rsqrt(accum_t + epsilon) * grad
        var_t = assign_sub(ref(var), update * lr)
        with get_default_graph().control_dependencies([var_t]):
            return assign(ref(accum_update), ref(accum_update) * rho + square(update) * (1 - rho))


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal (TF1's ApplyFtrl, or ApplyFtrlV2 with L2 shrinkage)."""

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0, beta=None):
        super().__init__(use_locking, name)
        for what, value, low in (("initial_accumulator_value", initial_accumulator_value, "positive"),
                                 ("l1_regularization_strength", l1_regularization_strength, "positive"),
                                 ("l2_regularization_strength", l2_regularization_strength, "positive"),
                                 ("l2_shrinkage_regularization_strength",
                                  l2_shrinkage_regularization_strength, "positive")):
            if value < 0.0:
                raise ValueError(f"{what} {value:f} needs to be {low} or zero")
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be negative or zero")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1, self._l2 = l1_regularization_strength, l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage = l2_shrinkage_regularization_strength
        self._accum_name, self._linear_name = accum_name, linear_name

    def _create_slots(self, var_list):
        for v in var_list:
            init = Constant(self._initial_accumulator_value, dtype=v.dtype.base_dtype)
            self._get_or_make_slot_with_initializer(v, init, v.shape, v.dtype, "accum",
                                                    self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self):
        self._learning_rate_tensor = self._hyper(self._learning_rate, "learning_rate")
        self._l1_tensor = self._hyper(self._l1, "l1_regularization_strength")
        self._l2_tensor = self._hyper(
            self._l2 + self._beta / (2.0 * maximum(self._learning_rate, 1e-36)),
            "adjusted_l2_regularization_strength")
        self._l2_shrinkage_tensor = self._hyper(self._l2_shrinkage,
                                                "l2_shrinkage_regularization_strength")
        self._learning_rate_power_tensor = self._hyper(self._learning_rate_power,
                                                       "learning_rate_power")

    def _apply_dense(self, grad, var):
        accum, linear = self.get_slot(var, "accum"), self.get_slot(var, "linear")
        lr, l1, l2, lr_power = (self._cast(t, var) for t in (
            self._learning_rate_tensor, self._l1_tensor, self._l2_tensor,
            self._learning_rate_power_tensor))
        power = sqrt if self._learning_rate_power == -0.5 else (lambda x: math_ops.pow(x, -lr_power))
        shrunk = grad
        if self._l2_shrinkage > 0.0:
            shrunk = grad + 2 * self._cast(self._l2_shrinkage_tensor, var) * ref(var)
        new_power = power(ref(accum) + square(grad))  # new_accum ** -lr_power
        linear_t = assign_add(ref(linear), shrunk - (new_power - power(ref(accum))) / lr * ref(var))
        pre_shrink = (l1 * sign(linear_t) - linear_t) / (new_power / lr + 2 * l2)
        var_t = assign(ref(var), where(greater(math_ops.abs(linear_t), l1), pre_shrink, 0.0))
        with get_default_graph().control_dependencies([var_t]):
            return assign_add(ref(accum), square(grad))
