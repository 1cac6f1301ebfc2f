"""Config resolution: defaults, recipes, overrides, aliases, and plugin sections."""

from genzoo.config import dump, load_yaml, parse_overrides, resolve


def test_embedded_default_is_svae_r_on_toy(registry):
    config = resolve(None, [], registry)
    assert (config.objective.name, config.arch.name, config.data.name) == ("svae_r", "toy_mlp", "toy")
    assert config.objective.options.lam == 0.1
    assert config.train.steps == 1600 and config.train.generator_steps == 5 and config.optim.lr == 1e-3


def test_overrides_with_aliases_and_dotted_keys(registry):
    config = resolve(None, ["lambda=1", "arch.width=64", "steps=10", "lr=5e-4", "train.critic_steps=2"], registry)
    assert config.objective.options.lam == 1.0 and isinstance(config.objective.options.lam, float)
    assert config.arch.options.width == 64 and config.train.steps == 10
    assert config.optim.lr == 5e-4 and config.train.critic_steps == 2


def test_choosing_another_objective_starts_from_its_defaults(registry):
    config = resolve(None, ["objective=alice"], registry)
    assert config.objective.options.lam == 1.0
    config = resolve(None, ["objective=vae"], registry)
    assert config.objective.name == "vae"


def test_recipe_then_overrides(registry):
    config = resolve("svae-r-toy", ["lr=5e-4"], registry)
    assert config.train.critic_steps == 1 and config.optim.lr == 5e-4


def test_dumped_config_resolves_to_the_same_config(registry, tmp_path):
    config = resolve(None, ["lambda=0.5", "eval.metrics=[mse]"], registry)
    path = tmp_path / "config.yaml"
    path.write_text(dump(config))
    assert resolve(str(path), [], registry) == config
    assert load_yaml(path)["objective"] == {"name": "svae_r", "lam": 0.5, "recon": "auto", "cycles": "xz", "link": "identity"}


def test_parse_overrides_types():
    assert parse_overrides(["a.b=1", "c=x", "d=true", "e=1e-3", "f=null", "g=[1, 2]"]) == {
        "a": {"b": 1}, "c": "x", "d": True, "e": 1e-3, "f": None, "g": [1, 2]
    }
