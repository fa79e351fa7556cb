"""Running the explorer for a school: replicas behind a proxy (deploy/school.py)."""
