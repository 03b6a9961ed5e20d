"""The registry knows, for every model, which data it models, so no zoo cell is skipped."""

from __future__ import annotations

from generative import registry


def test_every_model_declares_its_data_kinds():
    missing = set(registry.MODELS) - set(registry.FAMILY_KINDS)
    assert not missing, f"models without FAMILY_KINDS (a zoo would skip them): {sorted(missing)}"


def test_toys_get_a_view_for_every_sampling_family():
    for model in ("gan", "gan_r1", "wgan_gp", "sngan_r1", "pacgan", "realnvp", "nsf", "ebm"):
        assert registry.view_for(model, "ring8") == "ring8"
        assert registry.view_for(model, "digits") == "digits_continuous"
    assert registry.view_for("categorical_nb", "digits") == "digits"
    assert registry.view_for("categorical_nb", "moons") is None
