"""Thread-local grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers and
decorators, with or without parentheses, generator functions included)."""
import functools
import inspect
import threading

_state = threading.local()      # .enabled, .inference, .create_graph; a new thread starts with defaults


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def _set(flag):
    _state.enabled = bool(flag)


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)


class _DecoratorContext:
    """Base of the grad-mode managers: ``with m():``, ``@m()`` and (no-argument classes) ``@m``."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError("Torch decorator used on a class is not supported")
        factory = self.clone
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                with factory():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with factory():
                            gen.close()
                        raise
                    except BaseException as e:
                        with factory():
                            response = gen.throw(e)
                    else:
                        try:
                            with factory():
                                response = gen.send(request)
                        except StopIteration as e:
                            return e.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with factory():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()

    def __repr__(self):
        return f"<torch.autograd.grad_mode.{type(self).__name__} object at {hex(id(self))}>"


class _NoParam(_DecoratorContext):
    """Also usable as a bare decorator: ``@no_grad``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParam):
    """Disable graph recording; results are leaves with ``requires_grad=False``."""

    def __init__(self):
        self.prev = False

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class enable_grad(_NoParam):
    """Re-enable graph recording (inside no_grad)."""

    def __init__(self):
        self.prev = True

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = True

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class set_grad_enabled(_DecoratorContext):
    """Sets grad mode on construction (so ``set_grad_enabled(False)`` works as a plain call) and restores
    the previous mode when used as a context manager."""

    def __init__(self, mode):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __call__(self, func):
        _state.enabled = self.prev
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def clone(self):
        return self.__class__(self.mode)

    def __repr__(self):
        return f"torch.autograd.grad_mode.set_grad_enabled(mode={self.mode})"


class inference_mode(_DecoratorContext):
    """Like no_grad (numtorch has no separate inference tensors); ``inference_mode(False)`` enables grad."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self.prev = (is_grad_enabled(), is_inference_mode_enabled())
        _state.enabled = not self.mode
        _state.inference = self.mode

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self.prev
        return False

    def clone(self):
        return self.__class__(self.mode)


class set_detect_anomaly:
    """Accepted for compatibility; numtorch's error messages are already explicit."""

    def __init__(self, mode, check_nan=True):
        self.prev = getattr(_state, "anomaly", False)
        _state.anomaly = bool(mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.anomaly = self.prev
        return False


class detect_anomaly(_DecoratorContext):
    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = getattr(_state, "anomaly", False)
        _state.anomaly = True

    def __exit__(self, *exc):
        _state.anomaly = self.prev
        return False


def is_anomaly_enabled():
    return getattr(_state, "anomaly", False)
