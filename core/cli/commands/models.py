"""``hybridlab models``: the registered models, their parameters and role presets."""
from __future__ import annotations

import argparse


def add_command(sub) -> None:
    p = sub.add_parser("models", help="list models, their parameters and role presets")
    p.set_defaults(func=cmd_models)


def cmd_models(a: argparse.Namespace) -> int:
    from core.models import get_model, model_names

    for name in model_names():
        spec = get_model(name)
        print(f"{name}: {spec.description}")
        if not spec.has_parameters:
            continue
        ps = spec.parameters()
        print(f"  forcing: {', '.join(spec.forcing)}; targets: {', '.join(spec.targets)}; data: {spec.default_data}")
        print(f"  presets: {', '.join(ps.presets)}")
        for p in ps:
            print(f"    {p.name:<10} {p.role:<7} {p.default:>10.4g} [{p.lower:g}, {p.upper:g}] {p.scale:<6} "
                  f"{p.unit}  {p.description}")
    return 0
