"""EulerStream-compatible signing service: signers for TikTok web URLs."""
