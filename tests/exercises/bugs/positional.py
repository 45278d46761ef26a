"""Wrong sincos_1d."""

from . import Bug

S = "05_positional"
SIN, COS = "pe[:, 0::2] = torch.sin(angles)", "pe[:, 1::2] = torch.cos(angles)"
BUGS = [
    Bug(
        "cos_with_extra_t",
        S,
        (
            (
                COS,
                "pe[:, 1::2] = torch.cos(\n        angles * torch.arange(num_positions, "
                "dtype=torch.float64)[:, None]\n    )",
            ),
        ),
        "sin_cos_pairs",
        "cos_extra_t",
    ),
    Bug(
        "sin_cos_swapped",
        S,
        ((SIN, "pe[:, 0::2] = torch.cos(angles)"), (COS, "pe[:, 1::2] = torch.sin(angles)")),
        "sin_cos_pairs",
        "sin_cos_swapped",
    ),
    Bug(
        "concatenated",
        S,
        (
            (SIN, "pe[:, : dim // 2] = torch.sin(angles)"),
            (COS, "pe[:, dim // 2 :] = torch.cos(angles)"),
        ),
        "sin_cos_pairs",
        "sincos_concatenated",
    ),
    Bug(
        "base_100",
        S,
        (("omega = 1.0 / 10000 **", "omega = 1.0 / 100 **"),),
        "values_match",
        "frequency_wrong",
    ),
    Bug(
        "exponent_i_over_d",
        S,
        (("dtype=torch.float64) / dim)", "dtype=torch.float64) / (2 * dim))"),),
        "values_match",
        "frequency_wrong",
    ),
    Bug(
        "transposed",
        S,
        (("return pe.float()", "return pe.float().T"),),
        "shape_and_dtype",
        "wrong_shape",
    ),
]
