"""Wrong split_heads / merge_heads / multi_head_attention."""

from . import Bug

M = "02_multihead"
SPLIT = "return x.reshape(B, N, num_heads, D // num_heads).transpose(1, 2)"
BUGS = [
    Bug(
        "split_without_transpose",
        M,
        ((SPLIT, "return x.reshape(B, num_heads, N, D // num_heads)"),),
        "split_heads_values",
        "mixed_heads",
    ),
    Bug(
        "split_head_axis_third",
        M,
        ((SPLIT, "return x.reshape(B, N, num_heads, D // num_heads)"),),
        "split_heads_shape",
        "head_axis",
    ),
    Bug(
        "merge_without_transpose",
        M,
        (("return x.transpose(1, 2).reshape(B, N, H * Dh)", "return x.reshape(B, N, H * Dh)"),),
        "merge_heads_values",
        "merge_mixed",
    ),
    Bug(
        "scaled_by_sqrt_D",
        M,
        (("/ math.sqrt(q.shape[-1])", "/ math.sqrt(x.shape[-1])"),),
        "multi_head_attention_output",
        "mha_scale",
    ),
    Bug(
        "no_output_projection",
        M,
        (("return out @ proj_weight.T + proj_bias", "return out"),),
        "single_head",
        "mha_no_projection",
    ),
]
