#!/usr/bin/env python3
"""Writes battle logs of a small external game in Tactician's battle-log format.

The game ("duel-arena") is a stand-in for any game written in any language: two sides of two
units trade blows and heal until one side is wiped out or the turn limit is reached. What
matters is how it logs: its encoder is declared once in `spec.json` (feature names and ranges,
action names, version hash), and every decision is logged with the encoded features, the legal
mask and the action, plus an optional structured state and events. See docs/battle-log.md,
"Logs from other games".

Standard library only. Usage:

    python3 write_log.py --battles 12 --seed 1 --out battles.jsonl
    tactician ingest battles.jsonl --spec spec.json --out dataset

The same arguments write the same bytes (pass --wall-clock to also record real timings).
"""

import argparse
import hashlib
import json
import os
import random
import sys
import time

GAME = {"name": "duel-arena", "version": "0.1.0"}
MAX_HP = 10
POTIONS = 2
MAX_TURNS = 20
UNITS = 2  # per side
ATTACK = (2, 4)  # damage range, inclusive
HEAL = 4


def load_spec(path):
    """The encoder as logs declare it: name, version hash and sizes, read from the spec."""
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    if "hash" not in spec:
        sys.exit(f"{path} has no hash: print it with `tactician spec {path}` and add it")
    return {
        "name": spec["name"],
        "hash": spec["hash"],
        "features": len(spec["features"]),
        "actions": len(spec["actions"]),
        "action_names": spec["actions"],
    }


def alive(hp, side):
    return [u for u in range(UNITS) if hp[side][u] > 0]


def legal_mask(hp, potions, side):
    """One flag per action of spec.json: pass, attack_0, attack_1, heal_0, heal_1."""
    enemy = 1 - side
    mask = [1]
    mask += [1 if hp[enemy][t] > 0 else 0 for t in range(UNITS)]
    mask += [
        1 if potions[side] > 0 and 0 < hp[side][t] < MAX_HP else 0 for t in range(UNITS)
    ]
    return mask


def encode(hp, potions, side, actor, turn):
    """The 8 features of spec.json, each scaled to [0, 1], from the acting side's view."""
    enemy = 1 - side
    return [
        hp[side][0] / MAX_HP,
        hp[side][1] / MAX_HP,
        hp[enemy][0] / MAX_HP,
        hp[enemy][1] / MAX_HP,
        potions[side] / POTIONS,
        potions[enemy] / POTIONS,
        1.0 if actor == 1 else 0.0,
        turn / MAX_TURNS,
    ]


def choose(strategy, rng, hp, mask, side):
    legal = [a for a, ok in enumerate(mask) if ok]
    if strategy == "random":
        return rng.choice(legal)
    # "greedy": heal a badly hurt ally, else hit the weakest enemy.
    for t in range(UNITS):
        if mask[3 + t] and hp[side][t] <= 3:
            return 3 + t
    targets = [t for t in range(UNITS) if mask[1 + t]]
    if targets:
        return 1 + min(targets, key=lambda t: (hp[1 - side][t], t))
    return 0


def material(hp):
    return [sum(hp[s]) / (UNITS * MAX_HP) for s in range(2)]


def play(seed, players, enc, wall_clock):
    """Plays one battle; returns its record (a dict)."""
    rng = random.Random(seed)
    started = time.time()
    hp = [[MAX_HP] * UNITS for _ in range(2)]
    potions = [POTIONS, POTIONS]
    decisions = []
    turn = 0
    rnd = 0
    winner = None
    victory = None
    while winner is None and victory is None:
        order = [(s, u) for u in range(UNITS) for s in (rnd % 2, 1 - rnd % 2)]
        for side, actor in order:
            if hp[side][actor] <= 0:
                continue
            state = {"hp": [list(h) for h in hp], "potions": list(potions)}
            mask = legal_mask(hp, potions, side)
            t0 = time.perf_counter()
            kind, who = players[side]
            action = choose(who if kind == "bot" else "greedy", rng, hp, mask, side)
            decision_us = (time.perf_counter() - t0) * 1e6
            before = material(hp)
            me = [side, actor]
            events = []
            if 1 <= action <= 2:
                target = action - 1
                dmg = min(rng.randint(*ATTACK), hp[1 - side][target])
                hp[1 - side][target] -= dmg
                events.append(
                    {"kind": "damage", "source": me, "target": [1 - side, target], "amount": dmg}
                )
                if hp[1 - side][target] == 0:
                    events.append({"kind": "knocked_out", "target": [1 - side, target]})
            elif action >= 3:
                target = action - 3
                potions[side] -= 1
                amount = min(HEAL, MAX_HP - hp[side][target])
                hp[side][target] += amount
                events.append({"kind": "item_used", "source": me, "target": [side, target], "item": "potion"})
                events.append({"kind": "healed", "source": me, "target": [side, target], "amount": amount})
            decision = {
                "turn": turn,
                "round": rnd,
                "side": side,
                "actor": actor,
                "state": state,
                "features": encode(state["hp"], state["potions"], side, actor, turn),
                "legal": "".join(map(str, mask)),
                "action": action,
                "events": events,
                "reward": 0.0,
                "done": False,
                "material": before,
            }
            if wall_clock:
                decision["wall"] = {"decision_us": decision_us}
            decisions.append(decision)
            turn += 1
            if not alive(hp, 1 - side):
                winner, victory = side, "elimination"
                break
            if turn >= MAX_TURNS:
                m = material(hp)
                if abs(m[0] - m[1]) >= 0.1:
                    winner, victory = (0 if m[0] > m[1] else 1), "points"
                else:
                    victory = "timeout"
                break
        rnd += 1
    last = decisions[-1]
    last["done"] = True
    last["reward"] = 0.0 if winner is None else (1.0 if last["side"] == winner else -1.0)
    names = [p[1] for p in players]
    # A stable id: the same battle (seed, players, actions) always gets the same one.
    key = json.dumps([GAME, seed, names, [d["action"] for d in decisions]])
    record = {
        "format": "tactician.battle/1",
        "battle_id": hashlib.sha256(key.encode()).hexdigest()[:16],
        "seed": seed,
        "game": GAME,
        "encoder": {k: enc[k] for k in ("name", "hash", "features", "actions")},
        "sides": [
            {"side": s, "kind": kind, ("strategy" if kind == "bot" else "player"): who}
            for s, (kind, who) in enumerate(players)
        ],
        "decisions": decisions,
        "outcome": {
            "winner": winner,
            "victory": victory,
            "turns": len(decisions),
            "rounds": rnd,
            "alive": [len(alive(hp, s)) for s in range(2)],
            "material": material(hp),
            "final_state": {"hp": hp, "potions": potions},
        },
    }
    if wall_clock:
        record["wall"] = {
            "started_unix_ms": int(started * 1000),
            "wall_ms": (time.time() - started) * 1000,
        }
    return record


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--battles", type=int, default=12, help="battles to play (default 12)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the first battle (default 1)")
    ap.add_argument("--spec", default=os.path.join(here, "spec.json"), help="the encoder's spec")
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    ap.add_argument("--wall-clock", action="store_true", help="record real timings")
    args = ap.parse_args()
    enc = load_spec(args.spec)
    lineups = [
        [("bot", "greedy"), ("bot", "random")],
        [("bot", "random"), ("bot", "greedy")],
        [("bot", "greedy"), ("bot", "greedy")],
        [("human", "player-7"), ("bot", "random")],
    ]
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    with out:
        for i in range(args.battles):
            rec = play(args.seed + i, lineups[i % len(lineups)], enc, args.wall_clock)
            # One record per line, compact, UTF-8, ending in a newline.
            out.write(json.dumps(rec, separators=(",", ":"), allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
