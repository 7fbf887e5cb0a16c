"""Pure-Python TikTok web signatures: X-Bogus, msToken and x-tt-params."""

from allin.sign.algorithm.mstoken import ms_token
from allin.sign.algorithm.signer import AlgorithmSigner
from allin.sign.algorithm.ttparams import decode_x_tt_params, x_tt_params
from allin.sign.algorithm.urls import InvalidTikTokUrl, validate_tiktok_url
from allin.sign.algorithm.xbogus import decode_x_bogus, encode_x_bogus, x_bogus

__all__ = [
    "AlgorithmSigner",
    "InvalidTikTokUrl",
    "decode_x_bogus",
    "decode_x_tt_params",
    "encode_x_bogus",
    "ms_token",
    "validate_tiktok_url",
    "x_bogus",
    "x_tt_params",
]
