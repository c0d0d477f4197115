"""Development tooling shared by the tests, `make bench` and `make chaos`: an aws deployment on
a moto server (aws.py), the CloudFormation template as data (infra_template.py) and a run
worker started as production starts it (worker_run.py). Not part of the installed package."""
