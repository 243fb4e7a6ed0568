"""numtorch.distributions: Categorical, Normal, Bernoulli, Uniform against PyTorch and closed forms."""
import math

import numpy as np
import pytest

import numtorch
from _twin import twin, twin_raises


def test_values_twin():
    def case(T):
        D = T.distributions
        res = []
        c = D.Categorical(logits=T.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, -1.0]]))
        res += [c.probs, c.logits, c.log_prob(T.tensor([2, 0])), c.entropy(), c.batch_shape, c.event_shape,
                c.param_shape, c.mean, repr(c), c.enumerate_support()]
        c2 = D.Categorical(probs=T.tensor([1.0, 3.0]))
        res += [c2.probs, c2.logits, repr(c2), c2.entropy()]
        n = D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, 2.0]))
        res += [n.log_prob(T.tensor([0.5, -1.0])), n.entropy(), n.mean, n.variance, n.stddev, repr(n),
                n.cdf(T.tensor([0.5, 1.0])), n.icdf(T.tensor([0.25, 0.5])), repr(D.Normal(0.0, 1.0)),
                n.expand((3, 2)).batch_shape]
        b = D.Bernoulli(logits=T.tensor([0.3, -2.0]))
        res += [b.probs, b.log_prob(T.tensor([1.0, 0.0])), b.entropy(), b.mean, b.variance, repr(D.Bernoulli(0.3)),
                D.Bernoulli(T.tensor([0.0, 1.0])).entropy()]
        u = D.Uniform(T.tensor([0.0, 1.0]), T.tensor([1.0, 3.0]))
        res += [u.log_prob(T.tensor([0.5, 2.0])), u.entropy(), u.mean, u.variance, u.cdf(T.tensor([0.5, 2.0])),
                repr(u), repr(D.Uniform(0.0, 2.0))]
        return res
    res = twin(case)
    np.testing.assert_allclose(res[3].numpy()[0], -(np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum() *
                                                    np.log(np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())).sum(),
                               rtol=1e-6)
    np.testing.assert_allclose(res[15].numpy(), [0.5 + 0.5 * math.log(2 * math.pi),
                                                 0.5 + 0.5 * math.log(2 * math.pi) + math.log(2)], rtol=1e-6)


def test_validation_errors():
    D = lambda T: T.distributions  # noqa: E731
    twin_raises(lambda T: D(T).Normal(T.tensor([0.0]), T.tensor([-1.0])), ValueError,
                "Expected parameter scale (Tensor of shape (1,)) of distribution Normal(loc: tensor([0.]), scale: "
                "tensor([-1.])) to satisfy the constraint GreaterThan(lower_bound=0.0), but found invalid values:")
    twin_raises(lambda T: D(T).Normal(0.0, 1.0).log_prob(T.tensor(float("nan"))), ValueError,
                "Expected value argument (Tensor of shape ()) to be within the support (Real()) of the distribution "
                "Normal(loc: 0.0, scale: 1.0), but found invalid values:")
    twin_raises(lambda T: D(T).Categorical(probs=T.tensor([-0.1, 1.1])), ValueError,
                "Expected parameter probs (Tensor of shape (2,)) of distribution Categorical(probs: torch.Size([2])) "
                "to satisfy the constraint Simplex()")
    twin_raises(lambda T: D(T).Categorical(probs=T.tensor([0.2, 0.8]), logits=T.tensor([1.0, 2.0])), ValueError,
                "Either `probs` or `logits` must be specified, but not both.")
    twin_raises(lambda T: D(T).Categorical(T.tensor([1.0, 3.0])).log_prob(T.tensor(5)), ValueError,
                "Expected value argument (Tensor of shape ()) to be within the support (IntegerInterval(lower_bound=0, "
                "upper_bound=1))")
    twin_raises(lambda T: D(T).Bernoulli(probs=T.tensor([1.5])), ValueError,
                "Expected parameter probs (Tensor of shape (1,)) of distribution Bernoulli(probs: tensor([1.5000])) "
                "to satisfy the constraint Interval(lower_bound=0.0, upper_bound=1.0)")
    twin_raises(lambda T: D(T).Uniform(1.0, 0.0), ValueError,
                "Expected parameter low (Tensor of shape ()) of distribution Uniform(low: 1.0, high: 0.0) to satisfy "
                "the constraint LessThan(upper_bound=0.0)")
    r = numtorch.distributions.Normal(0.0, 1.0, validate_args=False).log_prob(numtorch.tensor(float("nan")))
    assert math.isnan(r.item())


def test_sampling_statistics():
    numtorch.manual_seed(0)
    D = numtorch.distributions
    p = np.array([0.1, 0.2, 0.7])
    c = D.Categorical(numtorch.tensor(p))
    s = c.sample((4000,))
    assert s.shape == (4000,) and s.dtype == numtorch.int64
    np.testing.assert_allclose(np.bincount(s.numpy(), minlength=3) / 4000, p, atol=0.03)
    assert D.Categorical(numtorch.ones(2, 3)).sample((5,)).shape == (5, 2)
    assert (D.Categorical(numtorch.tensor([0.0, 0.0, 1.0])).sample((20,)) == 2).all()
    b = D.Bernoulli(numtorch.tensor([0.2, 0.9])).sample((4000,))
    np.testing.assert_allclose(b.numpy().mean(0), [0.2, 0.9], atol=0.03)
    u = D.Uniform(numtorch.tensor(1.0), numtorch.tensor(3.0)).sample((4000,))
    assert u.numpy().min() >= 1 and u.numpy().max() < 3 and abs(u.numpy().mean() - 2) < 0.05
    n = D.Normal(numtorch.tensor([1.0, -2.0]), numtorch.tensor([0.5, 2.0])).sample((4000,))
    np.testing.assert_allclose(n.numpy().mean(0), [1.0, -2.0], atol=0.1)
    np.testing.assert_allclose(n.numpy().std(0), [0.5, 2.0], rtol=0.06)


def test_rsample_differentiable():
    D = numtorch.distributions
    loc = numtorch.tensor([0.5, -1.0], requires_grad=True)
    scale = numtorch.tensor([2.0, 0.5], requires_grad=True)
    numtorch.manual_seed(1)
    x = D.Normal(loc, scale).rsample((3,))
    assert type(x.grad_fn).__name__ == "AddBackward0"
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-6)
    assert D.Normal(loc, scale).sample().grad_fn is None
    lo = numtorch.tensor(0.0, requires_grad=True)
    hi = numtorch.tensor(2.0, requires_grad=True)
    y = D.Uniform(lo, hi).rsample((5,))
    y.sum().backward()
    r = (y.detach().numpy() - 0.0) / 2.0
    np.testing.assert_allclose(hi.grad.item(), r.sum(), rtol=1e-6)
    np.testing.assert_allclose(lo.grad.item(), (1 - r).sum(), rtol=1e-6)


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial(replacement):
    g = numtorch.Generator().manual_seed(0)
    p = numtorch.tensor([[1.0, 2.0, 7.0], [0.0, 0.0, 1.0]])
    s = numtorch.multinomial(p, 3 if not replacement else 2000, replacement, generator=g)
    if replacement:
        np.testing.assert_allclose(np.bincount(s[0].numpy(), minlength=3) / 2000, [0.1, 0.2, 0.7], atol=0.04)
        assert (s[1] == 2).all()
    else:
        assert sorted(s[0].tolist()) == [0, 1, 2] and s[1, 0].item() == 2
    twin(lambda T: T.multinomial(T.tensor([0.0, 1.0, 0.0]), 3 if not replacement else 4, replacement)
         if not replacement else T.multinomial(T.tensor([0.0, 1.0, 0.0]), 4, True))
    twin_raises(lambda T: T.multinomial(T.tensor([-1.0, 1.0]), 1), RuntimeError,
                "probability tensor contains either `inf`, `nan` or element < 0")
    twin_raises(lambda T: T.multinomial(T.tensor([0.0, 0.0]), 1), RuntimeError,
                "invalid multinomial distribution (sum of probabilities <= 0)")
    twin_raises(lambda T: T.multinomial(T.ones(3), 4), RuntimeError,
                "cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    twin_raises(lambda T: T.multinomial(T.ones(2, 2, 2), 1), RuntimeError, "prob_dist must be 1 or 2 dim")
