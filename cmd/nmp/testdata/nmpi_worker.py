"""The nmpi client's submit, wait and download_data path against a real
nmp serve and nmp worker (run by TestEndToEnd).

PyPI is out of reach, so the nmpi package cannot be installed; the Client of
api/testdata/nmpi_calls.py reproduces its HTTP calls (0.11.2), and this
script makes the calls a user makes: submit_job(source=<script text>,
wait=True), then download_data(job).
"""

import os
import sys

URL = os.environ["NMP_URL"]
TOKEN = os.environ["NMP_TOKEN"]
OUT = os.environ["OUT_DIR"]

# nmpi_calls.py reads its own credentials at import; they are not used here.
for k in ("ALICE_TOKEN", "ADMIN_TOKEN", "LOCAL_KEY", "UMAN_KEY", "BOB_PASSWORD"):
    os.environ.setdefault(k, "unused")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "api", "testdata"))
from nmpi_calls import Client  # noqa: E402

SCRIPT = """import sys
print("simulating on", sys.argv[1])
with open("spikes.csv", "w") as f:
    f.write("neuron,time\\n0,12.5\\n")
"""

c = Client(token=TOKEN, job_service=URL + "/", user_info_endpoint=URL + "/userinfo")
job = c.submit_job(source=SCRIPT, platform="Demo", collab_id="demo", command="run.py {system}", wait=True)
assert job["status"] == "finished", job
assert "simulating on nmp" in job["log"], job["log"]
paths = c.download_data(job, local_dir=OUT)
assert [os.path.relpath(p, OUT) for p in paths] == ["spikes.csv"], paths
with open(paths[0]) as f:
    assert f.read() == "neuron,time\n0,12.5\n"
assert job["resource_usage"]["units"] == "hours" and job["resource_usage"]["value"] > 0, job["resource_usage"]
print("nmpi submit, wait and download_data passed")
