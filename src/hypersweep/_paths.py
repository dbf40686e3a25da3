"""Where a workspace keeps its state: names every layer may know (standard library only, no imports)."""

STATE_DIR = ".hypersweep"  # inside the workspace folder: the database, snapshots and run folders
DB_NAME = "hypersweep.db"
