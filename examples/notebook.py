# %% [markdown]
# # arena from a notebook
# Each cell runs as is in Jupyter (where an event loop is already running) or as a script:
# `python examples/notebook.py`.

# %%
import arena

traj = arena.play("tic-tac-toe", ["random", "mcts:simulations=50"], seed=1)
print(traj.outcome.scores, [step.action for step in traj.steps])

# %%
res = arena.tournament(["prisoners-dilemma:rounds=5"], ["tit-for-tat", "always-defect", "random"],
                       games_per_pair=2, seed=0, n_boot=200)
for row in arena.leaderboard(res):
    print(row["agent"], row.get("wins"), row.get("draws"), row.get("losses"), row.get("bt"))

# %%
report = arena.build_report(res.db, "report.html", res.run_id, n_boot=200)
print("open", report)
