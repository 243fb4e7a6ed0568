"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set(flag):
    _state.enabled = bool(flag)


class _DecoratorContext:
    """Usable as ``with no_grad():`` and as ``@no_grad()`` (and bare ``@no_grad``)."""
    _target = True

    def __new__(cls, orig_func=None, *args, **kwargs):
        if callable(orig_func) and cls is not set_grad_enabled:
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._target)
        return None

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*a, **kw):
            with self.__class__.__new__(self.__class__)._clone(self):
                return func(*a, **kw)
        return wrapper

    def _clone(self, other):
        self.__dict__.update({k: v for k, v in other.__dict__.items() if k != "_prev"})
        return self

    def clone(self):
        return self.__class__.__new__(self.__class__)._clone(self)


class no_grad(_DecoratorContext):
    """Disable graph recording; results are leaves with ``requires_grad=False``."""
    _target = False


class enable_grad(_DecoratorContext):
    _target = True


class set_grad_enabled(_DecoratorContext):
    """Sets grad mode immediately (like PyTorch) and restores it when used as a context."""

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self._target = bool(mode)
        _set(mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, func):
        _set(self._prev)
        mode = self._target

        @functools.wraps(func)
        def wrapper(*a, **kw):
            with set_grad_enabled(mode):
                return func(*a, **kw)
        return wrapper


class inference_mode(_DecoratorContext):
    """Like no_grad (numtorch has no separate inference tensors)."""

    def __init__(self, mode=True):
        self._target = not mode


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)
