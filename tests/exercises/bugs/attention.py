"""Wrong scaled_dot_product_attention: (name, change, property, diagnosis)."""

from . import Bug

A = "01_attention"
SCORES = 'scores = scores.masked_fill(~mask, float("-inf"))'
BUGS = [
    Bug("no_scale", A, (("/ math.sqrt(d_k)", ""),), "output_without_mask", "wrong_scale"),
    Bug("scale_d_k", A, (("/ math.sqrt(d_k)", "/ d_k"),), "output_without_mask", "wrong_scale"),
    Bug(
        "softmax_over_queries",
        A,
        (("dim=-1)", "dim=-2)"),),
        "weights_are_distributions",
        "columns_sum",
    ),
    Bug(
        "round_output",
        A,
        (("output = weights @ v", "output = torch.round(weights @ v, decimals=2)"),),
        "output_without_mask",
        "rounded",
    ),
    Bug(
        "in_place_scale",
        A,
        (
            (
                "scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)",
                "q /= math.sqrt(d_k)\n    scores = q @ k.transpose(-2, -1)",
            ),
        ),
        "inputs_unchanged",
        "inputs_modified",
    ),
    Bug(
        "mask_inverted",
        A,
        (("masked_fill(~mask", "masked_fill(mask"),),
        "output_with_mask",
        "mask_inverted",
    ),
    Bug("mask_ignored", A, ((SCORES, "pass"),), "output_with_mask", "mask_ignored"),
    Bug(
        "mask_after_softmax",
        A,
        (
            (SCORES, "pass"),
            ("weights = torch.nan_to_num(weights, nan=0.0)", "weights = weights * mask"),
        ),
        "output_with_mask",
        "mask_after_softmax",
    ),
    Bug(
        "nan_in_masked_row",
        A,
        (("weights = torch.nan_to_num(weights, nan=0.0)", "pass"),),
        "fully_masked_row_is_zero",
        "fully_masked_nan",
    ),
    Bug(
        "finite_minus_big",
        A,
        (('float("-inf")', "-1e9"),),
        "fully_masked_row_is_zero",
        "fully_masked_uniform",
    ),
    Bug(
        "transpose_1_2",
        A,
        (("k.transpose(-2, -1)", "k.transpose(1, 2)"),),
        "mask_broadcasts",
        "raised",
    ),
    Bug(
        "boolean_index_mask",
        A,
        ((SCORES, 'scores[~mask] = float("-inf")'),),
        "mask_broadcasts",
        "raised",
    ),
    Bug(
        "output_only",
        A,
        (("return output, weights", "return output"),),
        "returns_output_and_weights",
        "not_tuple",
    ),
]
