"""``torch.distributions``: Distribution, Categorical, Normal, Bernoulli, Uniform and constraints."""
from . import constraints  # noqa: F401
from .distribution import Distribution
from .categorical import Categorical
from .normal import Normal
from .bernoulli import Bernoulli
from .uniform import Uniform
from .utils import broadcast_all  # noqa: F401

__all__ = ["Distribution", "Categorical", "Normal", "Bernoulli", "Uniform", "constraints"]
