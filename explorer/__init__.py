"""UI helpers for app.py: figures, images and the latent pad. Plain values in, plain values out."""
