"""Building the application's image and pushing it to its registry.

`pipeline.build_and_push` is the one entry point (`wimpy build` and, later, `wimpy deploy`
call it); the modules beside it each do one job: `versions` (which tag), `registries`
(where the image goes and how to log in), `images` (the Docker SDK calls) and `progress`
(showing the engine's event streams). Nothing here imports docker, boto3 or rich at
module level: `wimpy --help` must stay fast, so they are imported where they are used.
"""
