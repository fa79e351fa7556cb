"""Running the explorer: every process it takes, started one way (deploy/launch.py), and a
school of replicas behind a proxy (deploy/school.py)."""
