# Type stubs of the Rust extension module (python/src). The public API is blockrtl/__init__.py.
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

TOOL: str
FORMATS: List[str]
MAX_BLOCK_SIZE: int

class Formatbook:
    @staticmethod
    def builtin() -> Formatbook: ...
    @staticmethod
    def load(path: str) -> Formatbook: ...
    @staticmethod
    def parse(text: str, name: str = "<string>") -> Formatbook: ...
    @property
    def name(self) -> str: ...
    @property
    def dialects(self) -> List[List[int]]: ...
    def __len__(self) -> int: ...

RawCodes = Union[npt.NDArray[np.uint32], npt.NDArray[np.uint16]]

class Spec:
    def __init__(
        self,
        fmt: str,
        block_size: int = 32,
        *,
        scale_rule: str = "floor",
        selector: str = "mse",
        frac_bits: str = "2",
        scale: str = "e8m0",
        formatbook: Optional[Formatbook] = None,
        flush_subnormals: bool = False,
        pad: bool = False,
    ) -> None: ...
    @property
    def fmt(self) -> str: ...
    @property
    def block_size(self) -> int: ...
    @property
    def pad(self) -> bool: ...
    @property
    def element_bits(self) -> int: ...
    @property
    def scale_nan_code(self) -> int: ...
    @property
    def is_dialect(self) -> bool: ...
    def quantize(
        self, x: RawCodes, input_format: str
    ) -> Tuple[
        npt.NDArray[np.uint8], Optional[npt.NDArray[np.uint8]], npt.NDArray[np.bool_], npt.NDArray[np.uint8]
    ]: ...
    def dequantize(
        self,
        scales: npt.NDArray[np.uint8],
        dialects: Optional[npt.NDArray[np.uint8]],
        codes: npt.NDArray[np.uint8],
        out_format: str = "f32",
    ) -> RawCodes: ...
    def fake_quant(self, x: RawCodes, input_format: str) -> RawCodes: ...

Operand = Tuple[Spec, npt.NDArray[np.uint8], Optional[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]

def matmul(
    a: Operand,
    b: Operand,
    accumulate: str = "fp32",
    interleave: int = 1,
    acc_width: int = 48,
    acc_lsb: int = -24,
    pairwise: bool = False,
) -> Union[npt.NDArray[np.uint32], Tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]]: ...
def load_tensors(
    path: str, tensor: Sequence[str] = ..., exclude: Sequence[str] = ..., all_shapes: bool = False
) -> Tuple[List[Tuple[str, List[int], str, npt.NDArray[np.uint32]]], List[str]]: ...
