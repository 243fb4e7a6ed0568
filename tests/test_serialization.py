"""numtorch.save / numtorch.load: PyTorch's zip format both ways, weights_only safety, bad files.

The files under _TORCH_ZIP / _TORCH_LEGACY were written by torch 2.13 (torch.save of the state dict built in
``_expected_fixture``), so the PyTorch -> numtorch direction is tested without torch installed."""
import base64
import collections
import io
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np
import pytest

import numtorch
from numtorch.storage import Storage
from numtorch.device import device as _device


def _torch():
    try:
        import torch
        return torch
    except ImportError:
        return None


_TORCH_ZIP = (
    "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAQABIAYXJjaGl2ZS9kYXRhLnBrbEZCDgBaWlpaWlpaWlpaWlpaWoACY2NvbGxlY3Rpb25zCk9y"
    "ZGVyZWREaWN0CnEAKVJxAShYAQAAAHdxAmN0b3JjaC5fdXRpbHMKX3JlYnVpbGRfdGVuc29yX3YyCnEDKChYBwAAAHN0b3JhZ2VxBGN0b3Jj"
    "aApGbG9hdFN0b3JhZ2UKcQVYAQAAADBxBlgDAAAAY3B1cQdLDHRxCFFLAEsDSwSGcQlLBEsBhnEKiWgAKVJxC3RxDFJxDVgCAAAAd3RxDmgD"
    "KChoBGgFaAZoB0sMdHEPUUsASwRLA4ZxEEsBSwSGcRGJaAApUnESdHETUnEUWAMAAAByb3dxFWgDKChoBGgFaAZoB0sMdHEWUUsESwSFcRdL"
    "AYVxGIloAClScRl0cRpScRtYAQAAAGlxHGgDKChoBGN0b3JjaApMb25nU3RvcmFnZQpxHVgBAAAAMXEeaAdLA3RxH1FLAEsDhXEgSwGFcSGJ"
    "aAApUnEidHEjUnEkWAEAAABocSVoAygoaARjdG9yY2gKSGFsZlN0b3JhZ2UKcSZYAQAAADJxJ2gHSwJ0cShRSwBLAoVxKUsBhXEqiWgAKVJx"
    "K3RxLFJxLVgBAAAAbXEuaAMoKGgEY3RvcmNoCkJvb2xTdG9yYWdlCnEvWAEAAAAzcTBoB0sDdHExUUsASwOFcTJLAYVxM4loAClScTR0cTVS"
    "cTZYAQAAAHBxN2N0b3JjaC5fdXRpbHMKX3JlYnVpbGRfcGFyYW1ldGVyCnE4aAMoKGgEaAVYAQAAADRxOWgHSwJ0cTpRSwBLAoVxO0sBhXE8"
    "iWgAKVJxPXRxPlJxP4hoAClScUCHcUFScUJYAQAAAG5xQ31xRChYAgAAAGxycUVHP7mZmZmZmZpYBQAAAGJldGFzcUZHP+zMzMzMzM1HP+/3"
    "ztkWhyuGcUdYBAAAAG5hbWVxSFgBAAAAeHFJWAUAAABzdGVwc3FKXXFLKEsBSwJldXV9cUxYCQAAAF9tZXRhZGF0YXFNaAApUnFOWAAAAABx"
    "T31xUFgHAAAAdmVyc2lvbnFRSwFzc3NiLlBLBwgBpBBBAwMAAAMDAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABcAOABhcmNoaXZlLy5m"
    "b3JtYXRfdmVyc2lvbkZCNABaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaMVBLBwi379yDAQAA"
    "AAEAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABoANwBhcmNoaXZlLy5zdG9yYWdlX2FsaWdubWVudEZCMwBaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo2NFBLBwg/d3HpAgAAAAIAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAABEA"
    "PwBhcmNoaXZlL2J5dGVvcmRlckZCOwBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
    "WmxpdHRsZVBLBwiFPeMZBgAAAAYAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA4APgBhcmNoaXZlL2RhdGEvMEZCOgBaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAAAAAAAAgD8AAABAAABAQAAAgEAAAKBAAADAQAAA4EAA"
    "AABBAAAQQQAAIEEAADBBUEsHCHh9Zj4wAAAAMAAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgAUAGFyY2hpdmUvZGF0YS8xRkIQAFpa"
    "WlpaWlpaWlpaWlpaWloBAAAAAAAAAP7/////////AwAAAAAAAABQSwcIT7RtlRgAAAAYAAAAUEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAO"
    "ACwAYXJjaGl2ZS9kYXRhLzJGQigAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWgA4ALxQSwcIk5TryQQAAAAEAAAA"
    "UEsDBAAACAgAAAAAAAAAAAAAAAAAAAAAAAAOAEAAYXJjaGl2ZS9kYXRhLzNGQjwAWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaAQABUEsHCLODhIkDAAAAAwAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAAAAAADgBBAGFyY2hp"
    "dmUvZGF0YS80RkI9AFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAMA/AAAg"
    "QFBLBwi4i+O0CAAAAAgAAABQSwMEAAAICAAAAAAAAAAAAAAAAAAAAAAAAA8AOwBhcmNoaXZlL3ZlcnNpb25GQjcAWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWjMKUEsHCNGeZ1UCAAAAAgAAAFBLAwQAAAgIAAAAAAAAAAAAAAAAAAAA"
    "AAAAHgAyAGFyY2hpdmUvLmRhdGEvc2VyaWFsaXphdGlvbl9pZEZCLgBaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa"
    "WlpaWlpaMDA1NTE5MDE4NTMyMDM1OTA3ODcxNDU1Nzc4Mzg0NzIyNTgzNzE3MVBLBwgb6s0cKAAAACgAAABQSwECAAAAAAgIAAAAAAAAAaQQ"
    "QQMDAAADAwAAEAAAAAAAAAAAAAAAAAAAAAAAYXJjaGl2ZS9kYXRhLnBrbFBLAQIAAAAACAgAAAAAAAC379yDAQAAAAEAAAAXAAAAAAAAAAAA"
    "AAAAAFMDAABhcmNoaXZlLy5mb3JtYXRfdmVyc2lvblBLAQIAAAAACAgAAAAAAAA/d3HpAgAAAAIAAAAaAAAAAAAAAAAAAAAAANEDAABhcmNo"
    "aXZlLy5zdG9yYWdlX2FsaWdubWVudFBLAQIAAAAACAgAAAAAAACFPeMZBgAAAAYAAAARAAAAAAAAAAAAAAAAAFIEAABhcmNoaXZlL2J5dGVv"
    "cmRlclBLAQIAAAAACAgAAAAAAAB4fWY+MAAAADAAAAAOAAAAAAAAAAAAAAAAANYEAABhcmNoaXZlL2RhdGEvMFBLAQIAAAAACAgAAAAAAABP"
    "tG2VGAAAABgAAAAOAAAAAAAAAAAAAAAAAIAFAABhcmNoaXZlL2RhdGEvMVBLAQIAAAAACAgAAAAAAACTlOvJBAAAAAQAAAAOAAAAAAAAAAAA"
    "AAAAAOgFAABhcmNoaXZlL2RhdGEvMlBLAQIAAAAACAgAAAAAAACzg4SJAwAAAAMAAAAOAAAAAAAAAAAAAAAAAFQGAABhcmNoaXZlL2RhdGEv"
    "M1BLAQIAAAAACAgAAAAAAAC4i+O0CAAAAAgAAAAOAAAAAAAAAAAAAAAAANMGAABhcmNoaXZlL2RhdGEvNFBLAQIAAAAACAgAAAAAAADRnmdV"
    "AgAAAAIAAAAPAAAAAAAAAAAAAAAAAFgHAABhcmNoaXZlL3ZlcnNpb25QSwECAAAAAAgIAAAAAAAAG+rNHCgAAAAoAAAAHgAAAAAAAAAAAAAA"
    "AADSBwAAYXJjaGl2ZS8uZGF0YS9zZXJpYWxpemF0aW9uX2lkUEsGBiwAAAAAAAAAHgMtAAAAAAAAAAAACwAAAAAAAAALAAAAAAAAAL8CAAAA"
    "AAAAeAgAAAAAAABQSwYHAAAAADcLAAAAAAAAAQAAAFBLBQYAAAAACwALAL8CAAB4CAAAAAA=")

_TORCH_LEGACY = (
    "gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohYCgAAAHR5"
    "cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAmNjb2xsZWN0aW9ucwpPcmRlcmVkRGlj"
    "dApxAClScQEoWAEAAAB3cQJjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNvcl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRT"
    "dG9yYWdlCnEFWA4AAAA5NDEwMjA1ODUwMTY0OHEGWAMAAABjcHVxB0sMTnRxCFFLAEsDSwSGcQlLBEsBhnEKiWgAKVJxC3RxDFJxDVgCAAAA"
    "d3RxDmgDKChoBGgFWA4AAAA5NDEwMjA1ODUwMTY0OHEPaAdLDE50cRBRSwBLBEsDhnERSwFLBIZxEoloAClScRN0cRRScRVYAwAAAHJvd3EW"
    "aAMoKGgEaAVYDgAAADk0MTAyMDU4NTAxNjQ4cRdoB0sMTnRxGFFLBEsEhXEZSwGFcRqJaAApUnEbdHEcUnEdWAEAAABpcR5oAygoaARjdG9y"
    "Y2gKTG9uZ1N0b3JhZ2UKcR9YDgAAADk0MTAxOTczMjQ3OTM2cSBoB0sDTnRxIVFLAEsDhXEiSwGFcSOJaAApUnEkdHElUnEmWAEAAABocSdo"
    "AygoaARjdG9yY2gKSGFsZlN0b3JhZ2UKcShYDgAAADk0MTAxOTczMjc1NjgwcSloB0sCTnRxKlFLAEsChXErSwGFcSyJaAApUnEtdHEuUnEv"
    "WAEAAABtcTBoAygoaARjdG9yY2gKQm9vbFN0b3JhZ2UKcTFYDgAAADk0MTAxOTczMjc2MzIwcTJoB0sDTnRxM1FLAEsDhXE0SwGFcTWJaAAp"
    "UnE2dHE3UnE4WAEAAABwcTljdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3BhcmFtZXRlcgpxOmgDKChoBGgFWA4AAAA5NDEwMTk3MzI3Njk2MHE7"
    "aAdLAk50cTxRSwBLAoVxPUsBhXE+iWgAKVJxP3RxQFJxQYhoAClScUKHcUNScURYAQAAAG5xRX1xRihYAgAAAGxycUdHP7mZmZmZmZpYBQAA"
    "AGJldGFzcUhHP+zMzMzMzM1HP+/3ztkWhyuGcUlYBAAAAG5hbWVxSlgBAAAAeHFLWAUAAABzdGVwc3FMXXFNKEsBSwJldXV9cU5YCQAAAF9t"
    "ZXRhZGF0YXFPaAApUnFQWAAAAABxUX1xUlgHAAAAdmVyc2lvbnFTSwFzc3NiLoACXXEAKFgOAAAAOTQxMDE5NzMyNDc5MzZxAVgOAAAAOTQx"
    "MDE5NzMyNzU2ODBxAlgOAAAAOTQxMDE5NzMyNzYzMjBxA1gOAAAAOTQxMDE5NzMyNzY5NjBxBFgOAAAAOTQxMDIwNTg1MDE2NDhxBWUuAwAA"
    "AAAAAAABAAAAAAAAAP7/////////AwAAAAAAAAACAAAAAAAAAAA4ALwDAAAAAAAAAAEAAQIAAAAAAAAAAADAPwAAIEAMAAAAAAAAAAAAAAAA"
    "AIA/AAAAQAAAQEAAAIBAAACgQAAAwEAAAOBAAAAAQQAAEEEAACBBAAAwQQ==")


def _saved(obj, **kw):
    b = io.BytesIO()
    numtorch.save(obj, b, **kw)
    return b.getvalue()


def _all_dtypes():
    vals = np.array([0, 1, -2, 3, 5, 7], dtype=np.float64)
    out = collections.OrderedDict()
    for d in numtorch.dtypes.ALL_DTYPES:
        arr = (vals != 0) if d is numtorch.bool else np.abs(vals).astype(d.np) if d is numtorch.uint8 \
            else vals.astype(d.np)
        out[d.name] = numtorch.from_numpy(arr.reshape(2, 3).copy())
    return out


def _np(t):
    return t.detach().cpu().numpy()


# -- file layout ---------------------------------------------------------------------------------------
def test_zip_layout_matches_pytorch():
    base = numtorch.arange(6.).reshape(2, 3)
    data = _saved({"a": base, "b": base.t(), "c": numtorch.tensor([1, 2], dtype=numtorch.int64)})
    z = zipfile.ZipFile(io.BytesIO(data))
    assert z.namelist() == ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment",
                            "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version",
                            "archive/.data/serialization_id"]
    assert z.read("archive/version") == b"3\n"
    assert z.read("archive/byteorder") == b"little"
    assert z.read("archive/.format_version") == b"1"
    assert z.read("archive/.storage_alignment") == b"64"
    assert len(z.read("archive/.data/serialization_id")) == 40
    assert z.read("archive/data/0") == np.arange(6, dtype=np.float32).tobytes()   # a and b share one record
    assert z.read("archive/data/1") == np.array([1, 2], np.int64).tobytes()
    for info in z.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        nlen, elen = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
        if info.filename.startswith("archive/data/"):
            assert (info.header_offset + 30 + nlen + elen) % 64 == 0
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(z.read("archive/data.pkl"))]
    assert ops[0] == ("PROTO", 2)
    globals_ = [a for n, a in ops if n == "GLOBAL"]
    assert globals_ == ["torch._utils _rebuild_tensor_v2", "torch FloatStorage", "collections OrderedDict",
                        "torch LongStorage"]
    strings = [a for n, a in ops if n == "BINUNICODE"]
    assert ["storage", "0", "cpu"] == strings[1:4]


def test_storage_class_names_per_dtype():
    data = _saved(_all_dtypes())
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    names = [a for op, a, _ in pickletools.genops(pkl) if op.name == "GLOBAL" and a.startswith("torch ")]
    assert names == ["torch BoolStorage", "torch ByteStorage", "torch CharStorage", "torch ShortStorage",
                     "torch IntStorage", "torch LongStorage", "torch HalfStorage", "torch FloatStorage",
                     "torch DoubleStorage"]


# -- numtorch round trips ------------------------------------------------------------------------------
def test_round_trip_all_dtypes_and_containers():
    sd = _all_dtypes()
    obj = {"sd": sd, "list": [1, 2.5, "s", b"b", None, True], "tuple": (1, (2, 3)), "set": {4, 5},
           "size": numtorch.Size([2, 3]), "dtype": numtorch.float16, "dev": numtorch.device("cpu"),
           "cplx": 1 + 2j, "ba": bytearray(b"xy")}
    back = numtorch.load(io.BytesIO(_saved(obj)))
    for k, t in sd.items():
        r = back["sd"][k]
        assert r.dtype is t.dtype and tuple(r.shape) == (2, 3)
        np.testing.assert_array_equal(_np(r), _np(t))
    assert back["list"] == [1, 2.5, "s", b"b", None, True] and back["tuple"] == (1, (2, 3))
    assert back["set"] == {4, 5} and back["cplx"] == 1 + 2j and back["ba"] == bytearray(b"xy")
    assert isinstance(back["size"], numtorch.Size) and back["size"] == (2, 3)
    assert back["dtype"] is numtorch.float16 and back["dev"] == numtorch.device("cpu")


def test_views_share_storage_and_keep_strides():
    base = numtorch.arange(12.).reshape(3, 4)
    back = numtorch.load(io.BytesIO(_saved([base, base.t(), base[1], base[:, 1:3]])))
    b, bt, row, sl = back
    assert bt.stride() == (1, 4) and row.storage_offset() == 4 and sl.stride() == (4, 1)
    assert sl.storage_offset() == 1
    b[1, 2] = 100.
    assert bt[2, 1].item() == 100. and row[2].item() == 100. and sl[1, 1].item() == 100.
    np.testing.assert_array_equal(_np(sl), np.array([[1, 2], [5, 100], [9, 10]], np.float32))


def test_parameter_requires_grad_and_state_dict_metadata():
    from numtorch.nn import Parameter
    sd = collections.OrderedDict(w=Parameter(numtorch.ones(2, 2)), g=numtorch.zeros(3).requires_grad_(),
                                 f=Parameter(numtorch.ones(1), requires_grad=False))
    sd._metadata = collections.OrderedDict({"": {"version": 1}, "fc": {"version": 2}})
    back = numtorch.load(io.BytesIO(_saved(sd)))
    assert type(back) is collections.OrderedDict and list(back) == ["w", "g", "f"]
    assert back._metadata == {"": {"version": 1}, "fc": {"version": 2}}
    assert isinstance(back["w"], Parameter) and back["w"].requires_grad
    assert not isinstance(back["g"], Parameter) and back["g"].requires_grad
    assert isinstance(back["f"], Parameter) and not back["f"].requires_grad


def test_optimizer_style_state_dict_round_trip():
    st = {"state": {0: {"step": numtorch.tensor(3.), "exp_avg": numtorch.full((2,), 0.5)},
                    1: {"momentum_buffer": None}},
          "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False}]}
    back = numtorch.load(io.BytesIO(_saved(st)))
    assert back["param_groups"] == st["param_groups"]
    assert back["state"][0]["step"].item() == 3.0 and back["state"][1] == {"momentum_buffer": None}
    np.testing.assert_array_equal(_np(back["state"][0]["exp_avg"]), [0.5, 0.5])


def test_paths_file_objects_and_protocols(tmp_path):
    t = numtorch.arange(5, dtype=numtorch.int32)
    p = tmp_path / "t.pt"
    numtorch.save(t, p)
    numtorch.save(t, str(tmp_path / "u.pt"), pickle_protocol=4)
    with open(tmp_path / "v.pt", "wb") as f:
        numtorch.save({"t": t}, f)
    np.testing.assert_array_equal(_np(numtorch.load(p)), np.arange(5))
    np.testing.assert_array_equal(_np(numtorch.load(str(tmp_path / "u.pt"))), np.arange(5))
    with open(tmp_path / "v.pt", "rb") as f:
        assert numtorch.load(f)["t"].dtype is numtorch.int32
    ops = zipfile.ZipFile(tmp_path / "u.pt").read("archive/data.pkl")
    assert ops[:2] == b"\x80\x04"


def test_mmap_and_map_location(tmp_path):
    p = str(tmp_path / "m.pt")
    numtorch.save({"w": numtorch.arange(10.)}, p)
    m = numtorch.load(p, mmap=True)["w"]
    np.testing.assert_array_equal(_np(m), np.arange(10.))
    chain, a = [], m._storage.data
    while a is not None:
        chain.append(type(a))
        a = a.base if isinstance(a, np.ndarray) else None
    assert np.memmap in chain                      # a view of the file, not a copy
    for ml in ("cpu", numtorch.device("cpu"), {"cpu": "cpu"}, lambda s, loc: s, None):
        np.testing.assert_array_equal(_np(numtorch.load(p, map_location=ml)["w"]), np.arange(10.))
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap argument"):
        numtorch.load(io.BytesIO(open(p, "rb").read()), mmap=True)


def test_cuda_location_written_and_mapped():
    st = Storage(np.arange(3, dtype=np.float32), _device("cuda", 0))     # host bytes, tagged as a CUDA storage
    t = numtorch.Tensor._make(st, (3,), (1,), 0, numtorch.float32)
    data = _saved({"t": t})
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    assert "cuda:0" in [a for op, a, _ in pickletools.genops(pkl) if op.name == "BINUNICODE"]
    if not numtorch.cuda.is_available():
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            numtorch.load(io.BytesIO(data))
    for ml in ("cpu", {"cuda:0": "cpu"}, lambda s, loc: s):
        r = numtorch.load(io.BytesIO(data), map_location=ml)["t"]
        assert r.device.type == "cpu"
        np.testing.assert_array_equal(_np(r), [0, 1, 2])


# -- PyTorch-written files, without torch ---------------------------------------------------------------
def _check_fixture(sd):
    assert list(sd) == ["w", "wt", "row", "i", "h", "m", "p", "n"]
    assert sd._metadata == {"": {"version": 1}}
    np.testing.assert_array_equal(_np(sd["w"]), np.arange(12, dtype=np.float32).reshape(3, 4))
    assert sd["wt"].stride() == (1, 4) and sd["row"].storage_offset() == 4
    assert sd["i"].dtype is numtorch.int64 and sd["i"].tolist() == [1, -2, 3]
    assert sd["h"].dtype is numtorch.float16 and sd["h"].tolist() == [0.5, -1.0]
    assert sd["m"].dtype is numtorch.bool and sd["m"].tolist() == [True, False, True]
    assert isinstance(sd["p"], numtorch.nn.Parameter) and sd["p"].requires_grad and sd["p"].tolist() == [1.5, 2.5]
    assert sd["n"] == {"lr": 0.1, "betas": (0.9, 0.999), "name": "x", "steps": [1, 2]}
    sd["w"][0, 1] = -7.
    assert sd["wt"][1, 0].item() == -7.          # sharing preserved


@pytest.mark.parametrize("blob", [_TORCH_ZIP, _TORCH_LEGACY], ids=["zip", "legacy"])
def test_reads_files_written_by_pytorch(blob):
    data = base64.b64decode(blob)
    _check_fixture(numtorch.load(io.BytesIO(data)))
    _check_fixture(numtorch.load(io.BytesIO(data), weights_only=False))


# -- weights_only safety ----------------------------------------------------------------------------------
class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class _Plain:
    def __init__(self):
        self.a = 1


def test_malicious_pickle_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    data = _saved({"x": _Evil(marker), "w": numtorch.ones(2)})
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as ei:
        numtorch.load(io.BytesIO(data))
    assert "is blocked" in str(ei.value)
    assert not marker.exists()
    # the same in the legacy format
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        numtorch.load(io.BytesIO(_saved({"x": _Evil(marker)}, _use_new_zipfile_serialization=False)))
    assert not marker.exists()
    # a hand-made raw pickle calling builtins.eval
    raw = b"\x80\x02cbuiltins\neval\nX\x18\x00\x00\x00open('/dev/null').read()\x85R."
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        numtorch.load(io.BytesIO(raw))
    numtorch.load(io.BytesIO(data), weights_only=False)      # explicit opt-in does run it
    assert marker.exists()


def test_unknown_global_and_safe_globals():
    data = _saved({"x": _Plain()})
    with pytest.raises(pickle.UnpicklingError) as ei:
        numtorch.load(io.BytesIO(data))
    msg = str(ei.value)
    assert msg.startswith("Weights only load failed. This file can still be loaded")
    assert f"GLOBAL {__name__}._Plain was not an allowed global by default" in msg
    assert numtorch.load(io.BytesIO(data), weights_only=False)["x"].a == 1
    with numtorch.serialization.safe_globals([_Plain]):
        assert numtorch.serialization.get_safe_globals() == [_Plain]
        assert numtorch.load(io.BytesIO(data))["x"].a == 1
    assert numtorch.serialization.get_safe_globals() == []
    numtorch.serialization.add_safe_globals([_Plain])
    try:
        assert numtorch.load(io.BytesIO(data))["x"].a == 1
    finally:
        numtorch.serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        numtorch.load(io.BytesIO(data))


# -- bad files ----------------------------------------------------------------------------------------------
def test_truncated_and_corrupt_files():
    data = _saved({"x": numtorch.ones(100)})
    for cut in (10, 200, len(data) - 30):
        with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading zip archive: failed finding "
                                               "central directory"):
            numtorch.load(io.BytesIO(data[:cut]))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        numtorch.load(io.BytesIO(b"garbage" * 10))
    with pytest.raises(EOFError):
        numtorch.load(io.BytesIO(b""))


def _rezip(data, replace):
    out = io.BytesIO()
    zw = numtorch.serialization._ZipWriter(out)
    z = zipfile.ZipFile(io.BytesIO(data))
    for n in z.namelist():
        zw.add(n, replace.get(n, z.read(n)))
    zw.finish()
    return out.getvalue()


def test_newer_version_and_bad_metadata():
    data = _saved({"x": numtorch.ones(4)})
    with pytest.raises(RuntimeError, match="Attempted to read a PyTorch file with version 99, but the maximum"):
        numtorch.load(io.BytesIO(_rezip(data, {"archive/version": b"99\n"})))
    # a tensor claiming more elements than its storage holds must not become an out-of-bounds view
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    bad = pkl.replace(b"K\x04\x85", b"K\x09\x85", 1)      # size (4,) -> (9,)
    assert bad != pkl
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 16"):
        numtorch.load(io.BytesIO(_rezip(data, {"archive/data.pkl": bad})))
    with pytest.raises(RuntimeError, match="PytorchStreamReader failed locating file data/0"):
        z = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        zw = numtorch.serialization._ZipWriter(out)
        for n in z.namelist():
            if n != "archive/data/0":
                zw.add(n, z.read(n))
        zw.finish()
        numtorch.load(io.BytesIO(out.getvalue()))


# -- with PyTorch, both directions --------------------------------------------------------------------------
def test_pytorch_reads_numtorch_files():
    torch = _torch()
    if torch is None:
        pytest.skip("torch not installed")
    from numtorch.nn import Parameter
    sd = _all_dtypes()
    base = numtorch.arange(12.).reshape(3, 4)
    sd["view_t"], sd["base"], sd["row"] = base.t(), base, base[2]
    sd["param"] = Parameter(numtorch.ones(3))
    sd["size"], sd["dt"] = numtorch.Size([1, 2]), numtorch.float64
    sd._metadata = collections.OrderedDict({"": {"version": 1}})
    for legacy in (False, True):
        back = torch.load(io.BytesIO(_saved(sd, _use_new_zipfile_serialization=not legacy)))
        for d in numtorch.dtypes.ALL_DTYPES:
            assert str(back[d.name].dtype) == str(d)
            np.testing.assert_array_equal(back[d.name].numpy(), _np(sd[d.name]))
        assert back["view_t"].stride() == (1, 4)
        assert back["view_t"].untyped_storage().data_ptr() == back["base"].untyped_storage().data_ptr()
        assert back["row"].storage_offset() == 8 and back["row"].tolist() == [8., 9., 10., 11.]
        assert isinstance(back["param"], torch.nn.Parameter) and back["param"].requires_grad
        assert back["size"] == torch.Size([1, 2]) and back["dt"] is torch.float64
        assert back._metadata == {"": {"version": 1}}
    # the pure-Python pickler path; torch's weights-only unpickler refuses protocol 4 (FRAME) even for its own files
    p4 = torch.load(io.BytesIO(_saved(sd, pickle_protocol=4)), weights_only=False)
    assert p4["dt"] is torch.float64 and p4["view_t"].stride() == (1, 4) and p4["size"] == torch.Size([1, 2])


def test_numtorch_reads_pytorch_files_live():
    torch = _torch()
    if torch is None:
        pytest.skip("torch not installed")
    arrs = {d: np.arange(6).astype(d) for d in ("float32", "float64", "float16", "int64", "int32", "int16",
                                                "int8", "uint8", "bool")}
    sd = {k: torch.from_numpy(v.copy()) for k, v in arrs.items()}
    base = torch.arange(12.).reshape(3, 4)
    sd["t"], sd["base"] = base.t(), base
    m = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(m.parameters())
    m(torch.ones(1, 3)).sum().backward()
    opt.step()
    b = io.BytesIO()
    torch.save({"sd": sd, "model": m.state_dict(), "opt": opt.state_dict()}, b)
    back = numtorch.load(io.BytesIO(b.getvalue()))
    for k, v in arrs.items():
        assert str(back["sd"][k].dtype) == f"torch.{k}"
        np.testing.assert_array_equal(_np(back["sd"][k]), v)
    back["sd"]["base"][0, 3] = 5.
    assert back["sd"]["t"][3, 0].item() == 5.
    assert list(back["model"]) == ["weight", "bias"] and back["model"]._metadata == m.state_dict()._metadata
    np.testing.assert_allclose(_np(back["model"]["weight"]), m.weight.detach().numpy())
    ost = opt.state_dict()
    assert back["opt"]["param_groups"] == ost["param_groups"]
    np.testing.assert_allclose(_np(back["opt"]["state"][0]["exp_avg"]), ost["state"][0]["exp_avg"].numpy())
    assert back["opt"]["state"][0]["step"].item() == 1.0


def test_save_load_on_device(device):
    """A CUDA tensor saves with location 'cuda:0' and loads back on the GPU, or on the CPU via map_location."""
    t = numtorch.tensor(np.array([[1.5, -2.], [3., 4.]], np.float32))
    data = _saved({"t": t, "v": t.t()})
    pkl = zipfile.ZipFile(io.BytesIO(data)).read("archive/data.pkl")
    loc = [a for op, a, _ in pickletools.genops(pkl) if op.name == "BINUNICODE"][3]
    assert loc == ("cpu" if device.type == "cpu" else "cuda:0")
    back = numtorch.load(io.BytesIO(data))
    assert back["t"].device.type == device.type and back["v"].stride() == (1, 2)
    np.testing.assert_array_equal(back["v"].cpu().numpy(), [[1.5, 3.], [-2., 4.]])
    cpu = numtorch.load(io.BytesIO(data), map_location="cpu")["t"]
    assert cpu.device.type == "cpu"
    np.testing.assert_array_equal(cpu.numpy(), [[1.5, -2.], [3., 4.]])
    if device.type == "cuda":
        np.testing.assert_array_equal(
            numtorch.load(io.BytesIO(_saved({"t": cpu})), map_location="cuda")["t"].cpu().numpy(), cpu.numpy())


def test_crc32_options_and_large_records():
    sd = {f"w{i}": numtorch.full((300, 1000), float(i)) for i in range(3)}      # > 1 MiB records: pooled CRCs
    z = zipfile.ZipFile(io.BytesIO(_saved(sd)))
    assert z.testzip() is None                                             # every CRC-32 is right
    assert numtorch.serialization.get_crc32_options() is True
    numtorch.serialization.set_crc32_options(False)
    try:
        data = _saved(sd)
    finally:
        numtorch.serialization.set_crc32_options(True)
    assert {i.CRC for i in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {0}
    back = numtorch.load(io.BytesIO(data))                                 # CRCs are not checked on load
    assert [back[f"w{i}"][299, 999].item() for i in range(3)] == [0., 1., 2.]
    buf = io.BytesIO(b"head")                                              # appending after existing bytes
    buf.seek(4)
    numtorch.save(sd, buf)
    assert buf.getvalue()[:4] == b"head" and len(buf.getvalue()) < 4 + 3 * 1200000 + 4096
    buf.seek(4)
    assert numtorch.load(buf)["w1"][0, 0].item() == 1.
