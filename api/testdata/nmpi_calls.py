"""Drives an nmp server with the HTTP calls the official nmpi client makes.

PyPI is out of reach here, so the nmpi package itself cannot be installed. This
script reproduces, call by call, what nmpi 0.11.2 (Client, AdminClient, the CLI's
subset) and the hardware side (nmpi_saga's HardwareClient, SpiNNaker's
NMPIQueueManagerV3 and spalloc's QuotaManager) send, as documented in
shared/reference/nmpi-api.md, with Debian's python3-requests and the same URL
construction (job server = scheme://netloc, quotas base = the URL as given, so
a trailing slash yields "//projects/").

Run by api/python_test.go with the server's URL and credentials in the environment.
Every check prints "ok <name>"; the first failure raises.
"""

import json
import os
import re
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import requests

URL = os.environ["NMP_URL"]  # e.g. http://127.0.0.1:PORT
ALICE = os.environ["ALICE_TOKEN"]
ADMIN = os.environ["ADMIN_TOKEN"]
LOCAL_KEY = os.environ["LOCAL_KEY"]
UMAN_KEY = os.environ["UMAN_KEY"]
BOB_PASSWORD = os.environ["BOB_PASSWORD"]


def ok(name):
    print("ok", name, flush=True)


class ClientError(Exception):
    pass


def handle_error(response):
    # nmpi's _handle_error: detail, else error, else the raw text.
    try:
        data = response.json()
        msg = data.get("detail") or data.get("error") or response.text
    except ValueError:
        msg = response.text
    raise ClientError("Error %s: %s" % (response.status_code, msg))


class Client:
    """The HTTP behaviour of nmpi.Client (0.11.2)."""

    def __init__(self, token, job_service, user_info_endpoint, username=None):
        parts = urllib.parse.urlparse(job_service)
        self.job_server = "%s://%s" % (parts.scheme, parts.netloc)
        self.quotas_server = job_service  # kept as given, trailing slash and all
        self.token = token
        self.sleep_interval = 0.2  # the client's default is 2.0 s; shortened for the test
        r = requests.get(user_info_endpoint, headers=self.headers)
        if not r.ok:
            handle_error(r)
        info = r.json()
        if username:
            assert username == info["preferred_username"]
        self.user_info = info
        self.user_info["id"] = info.get("preferred_username", info.get("sub"))
        self.user_info["username"] = info.get("preferred_username", "unknown")

    @property
    def headers(self):
        return {"Authorization": "Bearer " + self.token}

    def _get(self, url):
        r = requests.get(url, headers=self.headers)
        if not r.ok:
            handle_error(r)
        return r.json()

    def _post(self, url, data):
        r = requests.post(url, json=data, headers=self.headers)
        if not r.ok:
            handle_error(r)
        return r.json()

    def _put(self, url, data):
        r = requests.put(url, json=data, headers=self.headers)
        if not r.ok:
            handle_error(r)
        return r.json() if r.content else None

    def _delete(self, url, data=None):
        r = requests.delete(url, json=data, headers=self.headers)
        if not r.ok:
            handle_error(r)
        return r.json() if r.content else None

    def get_server_info(self):
        return self._get(self.job_server)

    def my_collabs(self):
        collabs = {}
        for team in self.user_info["roles"]["team"]:
            m = re.match(r"collab-(.+)-(viewer|editor|administrator)$", team)
            if m:
                collabs[m.group(1)] = m.group(2)
        return collabs

    def submit_job(self, source, platform, collab_id, config=None, command="run.py {system}", tags=None, wait=False):
        job = {"command": command, "hardware_platform": platform, "collab": collab_id, "code": source}
        if config is not None:
            job["hardware_config"] = config
        if tags is not None:
            job["tags"] = tags
        result = self._post(self.job_server + "/jobs/", job)
        uri = result["resource_uri"]
        if wait:
            while True:
                j = self.get_job(uri, with_log=False)
                if j["status"] in ("finished", "error"):
                    break
                time.sleep(self.sleep_interval)
            return self.get_job(uri, with_log=True)
        return uri

    def get_job(self, job_id, with_log=True):
        if isinstance(job_id, int) or str(job_id).isdigit():
            path = "/jobs/%s" % job_id
        else:
            path = job_id
        url = self.job_server + path + "?with_log=%s&with_comments=true" % ("true" if with_log else "false")
        r = requests.get(url, headers=self.headers)
        if r.status_code == 404:
            raise Exception("No such job: %s" % job_id)
        if not r.ok:
            handle_error(r)
        return r.json()

    job_status = lambda self, job_id: self.get_job(job_id, with_log=False)["status"]

    def queued_jobs(self, verbose=False):
        jobs = self._get(self.job_server + "/jobs/?status=submitted&status=running&user_id=" + self.user_info["username"])
        return jobs if verbose else [j["resource_uri"] for j in jobs]

    def completed_jobs(self, collab_id, verbose=False):
        jobs = self._get(self.job_server + "/jobs/?status=finished&status=error&collab=%s&size=100000" % collab_id)
        return jobs if verbose else [j["resource_uri"] for j in jobs]

    def submit_comment(self, job_id, text):
        job = self.get_job(job_id, with_log=False)
        if job["status"] in ("finished", "error"):
            c = self._post(self.job_server + "/jobs/%s/comments/" % job["id"], {"content": text})
            assert isinstance(c, dict)
            return c
        return None

    def add_tags(self, job_id, tags):
        return self._post(self.job_server + "/jobs/%s/tags/" % job_id, tags)

    def remove_tags(self, job_id, tags):
        return self._delete(self.job_server + "/jobs/%s/tags/" % job_id, tags)

    def download_data(self, job, local_dir="."):
        paths = []
        for f in job["output_data"]["files"]:
            local = os.path.join(local_dir, f["path"])
            os.makedirs(os.path.dirname(local), exist_ok=True)
            urllib.request.urlretrieve(f["url"], local)  # no Authorization header
            paths.append(local)
        return paths

    def remove_completed_job(self, job_id):
        self._delete(self.job_server + "/jobs/%s" % job_id)

    def copy_data_to_storage(self, job_id, destination="drive"):
        repo = {"drive": "EBRAINS Drive", "bucket": "EBRAINS Bucket"}[destination]
        data = {"repository": repo, "files": []}
        self._put(self.job_server + "/jobs/%s/output_data" % job_id, data)
        return data

    def create_resource_request(self, title, collab_id, abstract, description=None, submit=False):
        data = {"collab": collab_id, "title": title, "abstract": abstract,
                "description": description or "", "status": "under review" if submit else "in preparation"}
        result = self._post(self.quotas_server + "/projects/", data)
        result["id"]
        if submit:
            print("Resource request {} submitted.".format(result["context"]))
        return result["resource_uri"]

    def get_resource_request(self, request_id):
        if str(request_id).startswith("/projects"):
            return self._get(self.quotas_server + request_id)
        return self._get(self.quotas_server + "/projects/" + request_id)

    def edit_resource_request(self, request_id, title=None, abstract=None, description=None, submit=False):
        data = {"status": "under review" if submit else "in preparation"}
        for k, v in (("title", title), ("abstract", abstract), ("description", description)):
            if v is not None:
                data[k] = v
        if str(request_id).startswith("/projects"):
            url = self.quotas_server + request_id
        else:
            url = self.quotas_server + "/projects/" + request_id
        self._put(url, data)

    def resource_requests(self, collab_id, status=None):
        url = self.quotas_server + "/projects/?collab=" + collab_id
        if status:
            url += "&" + urllib.parse.urlencode({"status": status})
        return self._get(url)

    def quotas(self, collab_id):
        qs = []
        for p in self.resource_requests(collab_id, "accepted"):
            qs.extend(p["quotas"])
        return qs


class AdminClient(Client):
    """The HTTP behaviour of nmpi.AdminClient (ebrains_neuromorphic_platform_admin 0.11.2)."""

    TEST_QUOTAS = {"BrainScaleS": "wafer-hours", "BrainScaleS-2": "chip-hours", "SpiNNaker": "core-hours",
                   "BrainScaleS-ESS": "hours", "Spikey": "hours"}

    def remove_job(self, job_id):
        return self._delete(self.job_server + "/jobs/%s?as_admin=true" % job_id)

    def resource_requests(self, collab_id=None, status=None):
        url = self.quotas_server + "/projects/?" + urllib.parse.urlencode({"as_admin": True, "size": 100000})
        if collab_id:
            url += "&collab=" + collab_id
        if status:
            url += "&" + urllib.parse.urlencode({"status": status})
        return self._get(url)

    def get_resource_request(self, request_id):
        return self._get(self.quotas_server + "/projects/%s?as_admin=true" % request_id)

    def accept_resource_request(self, request_uri, with_quotas=False):
        self._put(self.quotas_server + request_uri + "?as_admin=true", {"status": "accepted"})
        if with_quotas:
            for platform, q in with_quotas.items():
                self.add_quota(request_uri, platform, q["limit"], q.get("units"))

    def reject_resource_request(self, request_uri):
        self._put(self.quotas_server + request_uri + "?as_admin=true", {"status": "rejected"})

    def add_quota(self, request_uri, platform, limit, units=None):
        units = units or self.TEST_QUOTAS[platform]
        return self._post(self.quotas_server + request_uri + "/quotas/", {"units": units, "limit": limit, "platform": platform})


def password_login(authorization_endpoint, username, password):
    """nmpi's _ebrains_auth: a scripted browser login with one session."""
    s = requests.Session()
    r = s.get(authorization_endpoint + "/login", allow_redirects=False)
    assert r.status_code == 302, r.status_code
    page = s.get(r.headers["Location"])
    assert page.status_code == 200, page.status_code
    action = re.search(r'action="([^"]*)"', page.text).group(1).replace("&amp;", "&")
    r = s.post(action, data={"username": username, "password": password}, allow_redirects=False,
               headers={"Referer": page.url, "Host": "iam.ebrains.eu", "Origin": "https://iam.ebrains.eu"})
    assert r.status_code == 302, (r.status_code, r.text)
    r = s.get(r.headers["Location"])
    assert r.status_code == 200, r.status_code
    return r.json()["access_token"]


class Runner(threading.Thread):
    """The nmpi_saga HardwareClient/JobRunner cycle for the Demo platform, with an API key."""

    def __init__(self, platform, key, stop):
        super().__init__(daemon=True)
        self.platform, self.key, self.stop = platform, key, stop
        self.headers = {"x-api-key": key}
        self.done = []

    def run(self):
        while not self.stop.is_set():
            r = requests.get(URL + "/jobs/next/" + self.platform, headers=self.headers)
            if r.status_code == 404:
                assert "404" in "Error %s: %s" % (r.status_code, r.json()["detail"])
                time.sleep(0.1)
                continue
            assert r.ok, r.text
            job = r.json()
            # update_job(): PUT the whole job minus log and timestamp_started, then the log.
            job["status"] = "running"
            job.pop("log", None)
            job.pop("timestamp_started", None)
            r = requests.put(URL + "/jobs/%d" % job["id"], json=job, headers=self.headers)
            assert r.ok, r.text
            # PyPI 0.11.2's _put JSON-encodes the log.
            r = requests.put(URL + "/jobs/%d/log" % job["id"], data=json.dumps("ran %s\n" % job["command"]),
                             headers=dict(self.headers, **{"Content-Type": "application/json"}))
            assert r.ok, r.text
            job["status"] = "finished"
            job["timestamp_completion"] = "2024-01-01T00:00:00"
            job["resource_usage"] = {"value": 0.001, "units": "hours"}
            job["provenance"] = {}
            job["output_data"] = {"repository": "Demo temporary storage", "files": [
                {"url": "https://demo.hbpneuromorphic.eu/%s/job_%d/spikes.txt" % (job["collab"], job["id"]),
                 "path": "%s/job_%d/spikes.txt" % (job["collab"], job["id"]), "content_type": "text/plain", "size": 5,
                 "hash": "c4ca4238a0b923820dcc509a6f75849b"}]}
            r = requests.put(URL + "/jobs/%d" % job["id"], json=job, headers=self.headers)
            assert r.ok, r.text
            # the master branch sends the log as text/plain
            r = requests.put(URL + "/jobs/%d/log" % job["id"], data="ran %s\ndone\n" % job["command"],
                             headers=dict(self.headers, **{"Content-Type": "text/plain; charset=utf-8"}))
            assert r.ok, r.text
            self.done.append(job["id"])


def main():
    job_service = URL + "/"  # the CLI's spelling, with a trailing slash
    userinfo = URL + "/userinfo"

    c = Client(token=ALICE, job_service=job_service, user_info_endpoint=userinfo, username="alice")
    assert c.user_info["username"] == "alice"
    ok("Client(token=..., user_info_endpoint=...)")
    assert c.my_collabs() == {"lab": "editor"}, c.my_collabs()
    ok("my_collabs")
    info = c.get_server_info()
    assert info["version"] == "3"
    ok("get_server_info")

    # Resource requests and quotas (through the quotas base with its trailing slash: //projects/).
    uri = c.create_resource_request("Spiking models", "lab", "We need wafer time.", submit=False)
    rr = c.get_resource_request(uri)
    assert rr["status"] == "in preparation" and rr["collab"] == "lab"
    c.edit_resource_request(rr["id"], title="Spiking models of V1", submit=False)
    assert c.get_resource_request(rr["id"])["title"] == "Spiking models of V1"
    c.edit_resource_request(uri, submit=True)
    assert c.get_resource_request(uri)["status"] == "under review"
    ok("create/get/edit/submit resource request")
    uri2 = c.create_resource_request("Second", "lab", "Also.", description=None, submit=True)  # prints result["context"]
    ok("create_resource_request(submit=True) reads 'context'")
    assert [p["id"] for p in c.resource_requests("lab", "under review")] == [rr["id"], uri2.split("/")[-1]]
    ok("resource_requests with a status (+ for space)")
    assert any(q["platform"] == "Demo" for q in c.quotas("lab"))
    ok("quotas")

    admin = AdminClient(token=ADMIN, job_service=job_service, user_info_endpoint=userinfo)
    pending = admin.resource_requests(status="under review")
    assert {p["id"] for p in pending} == {rr["id"], uri2.split("/")[-1]}
    assert admin.get_resource_request(rr["id"])["id"] == rr["id"]
    admin.accept_resource_request(uri, with_quotas={"BrainScaleS": {"limit": 0.5, "units": "wafer-hours"}, "Spikey": {"limit": 2}})
    admin.reject_resource_request(uri2)
    accepted = c.get_resource_request(uri)
    assert accepted["status"] == "accepted" and any(q["platform"] == "Spikey" and q["limit"] == 2 for q in accepted["quotas"])
    assert c.get_resource_request(uri2)["status"] == "rejected"
    ok("AdminClient: resource_requests, accept (with quotas), reject, add_quota")

    # Jobs.
    stop = threading.Event()
    runner = Runner("Demo", LOCAL_KEY, stop)
    runner.start()
    job = c.submit_job(source="import pyNN.nest as sim\nsim.setup()\n", platform="Demo", collab_id="lab",
                       config={"pyNN_version": "0.11"}, tags=["first-run"], wait=True)
    assert job["status"] == "finished", job
    assert job["log"] == "ran run.py {system}\ndone\n", job["log"]
    assert job["resource_usage"] == {"value": 0.001, "units": "hours"}
    assert job["tags"] == ["first-run"] and job["hardware_config"] == {"pyNN_version": "0.11"}
    assert job["output_data"]["repository"] == "Demo temporary storage"
    assert job["output_data"]["files"][0]["path"] == "lab/job_%d/spikes.txt" % job["id"]
    ok("submit_job(wait=True) against a runner using HardwareClient's calls")
    stop.set()
    runner.join()

    uri3 = c.submit_job(source="https://github.com/example/model.git", platform="Demo", collab_id="lab")
    assert uri3.startswith("/jobs/")
    assert uri3 in c.queued_jobs()
    assert c.job_status(uri3) == "submitted"
    assert c.get_job(int(uri3.split("/")[-1]))["code"] == "https://github.com/example/model.git"
    ok("submit_job, queued_jobs, job_status, get_job by id and by URI")
    try:
        c.get_job(999999)
        raise AssertionError("no error")
    except Exception as e:
        assert "No such job" in str(e)
    ok("get_job of a missing job")
    try:
        c.submit_job(source="x", platform="SpiNNaker", collab_id="nolab")
        raise AssertionError("no error")
    except ClientError as e:
        assert str(e).startswith("Error 404:"), e
    ok("submit_job in a collab the caller cannot see: Error 404, as on the reference server")

    # nmp's provider side: claim, stored file; the client downloads it without credentials.
    key = {"x-api-key": LOCAL_KEY}
    claimed = requests.post(URL + "/jobs/next/Demo", headers=key).json()
    assert claimed["resource_uri"] == uri3 and claimed["lease"]["id"]
    lease = {"X-Nmp-Lease": claimed["lease"]["id"]}
    r = requests.put(URL + "/jobs/%d/files/results/spikes.dat" % claimed["id"], data=b"0.1 0.2 0.3", headers=dict(key, **lease))
    assert r.ok, r.text
    r = requests.patch(URL + "/jobs/%d/log" % claimed["id"], data="step 1\n", headers=dict(key, **lease))
    assert r.ok, r.text
    r = requests.put(URL + uri3, json={"status": "finished", "resource_usage": {"value": 0.002, "units": "hours"}}, headers=dict(key, **lease))
    assert r.ok, r.text
    done = c.get_job(uri3)
    with tempfile.TemporaryDirectory() as d:
        paths = c.download_data(done, local_dir=d)
        assert [os.path.relpath(p, d) for p in paths] == ["results/spikes.dat"]
        assert open(paths[0], "rb").read() == b"0.1 0.2 0.3"
    ok("download_data of a stored file (signed URL, no auth header)")
    assert c.copy_data_to_storage(done["id"], "drive")["repository"] == "EBRAINS Drive"
    ok("copy_data_to_storage")

    completed = c.completed_jobs("lab")
    assert completed == [uri3, job["resource_uri"]], completed
    ok("completed_jobs (repeated status, size=100000)")
    comment = c.submit_comment(done["id"], "Looks right.")
    assert comment["content"] == "Looks right." and comment["user_id"] == "alice"
    assert c.get_job(done["id"])["comments"][0]["content"] == "Looks right."
    ok("submit_comment")
    assert sorted(c.add_tags(done["id"], ["alpha", "beta"])) == ["alpha", "beta"]
    c.remove_tags(done["id"], ["alpha"])
    assert c.get_job(done["id"])["tags"] == ["beta"]
    ok("add_tags, remove_tags (DELETE with a JSON body)")
    admin.remove_job(job["id"])
    try:
        c.get_job(job["id"])
        raise AssertionError("no error")
    except Exception as e:
        assert "No such job" in str(e)
    ok("AdminClient.remove_job")

    # A token that is not valid: 401 with invalid_token, which the client's recovery looks for.
    try:
        Client(token="nmpt_expired", job_service=job_service, user_info_endpoint=userinfo)
        raise AssertionError("no error")
    except ClientError as e:
        assert "invalid_token" in str(e), e
    ok("invalid token")

    # Password login: Client(username, password, authorization_endpoint=...).
    token = password_login(URL, "bob", BOB_PASSWORD)
    bob = Client(token=token, job_service=job_service, user_info_endpoint=userinfo, username="bob")
    assert bob.my_collabs() == {"lab": "viewer"}
    assert bob.get_job(uri3)["status"] == "finished"
    ok("password login (scripted form, forced Host header)")

    # SpiNNaker's Java runner (NMPIQueueManagerV3) and spalloc's quota manager.
    skey = {"x-api-key": UMAN_KEY}
    jid = c.submit_job(source="spinnaker script", platform="SpiNNaker", collab_id="lab").split("/")[-1]
    listing = requests.get(URL + "/jobs/?hardware=SpiNNaker&status=validated&status=running", headers=skey)
    assert listing.ok and listing.json() == []
    nxt = requests.get(URL + "/jobs/next/SpiNNaker", headers=skey).json()
    assert str(nxt["id"]) == jid
    for body in ({"status": "validated"}, {"status": "running"}, {"log": "booting\n"}, {"log": "booting\nrunning\n"},
                 {"status": "finished", "timestamp_completion": "2024-01-01T00:00:00.000Z", "provenance": {"boards": 1},
                  "output_data": {"repository": "SpiNNaker Manchester temporary storage",
                                  "files": [{"url": "https://spinnaker.cs.man.ac.uk/job/%s/out.npz" % jid}]}}):
        r = requests.put(URL + "/jobs/" + jid, json=body, headers=skey)
        assert r.ok, r.text
    projects = requests.get(URL + "/projects/?status=accepted&collab=lab", headers=skey).json()
    assert any(q["platform"] == "SpiNNaker" and q["units"] == "core-hours" for p in projects for q in p["quotas"])
    sess = requests.post(URL + "/sessions/", json={"collab": "lab", "user_id": "alice", "hardware_platform": "SpiNNaker",
                                                    "hardware_config": {"n_boards": 1}}, headers=skey)
    assert sess.status_code == 201, sess.text
    r = requests.put(URL + "/sessions/%d" % sess.json()["id"], json={"status": "finished", "resource_usage": {"value": 3.5, "units": "core-hours"}}, headers=skey)
    assert r.ok, r.text
    j = requests.get(URL + "/jobs/" + jid, headers=skey).json()
    assert j["status"] == "finished" and j["user_id"] == "alice" and j["collab"] == "lab"
    r = requests.put(URL + "/jobs/" + jid, json={"resource_usage": {"value": 1.5, "units": "core-hours"}}, headers=skey)
    assert r.ok, r.text
    spinn = [q for q in c.quotas("lab") if q["platform"] == "SpiNNaker"][0]
    assert abs(spinn["usage"] - 5.0) < 1e-9, spinn
    ok("SpiNNaker runner and spalloc calls; usage charged")
    assert "/jobs/" + jid in c.completed_jobs("lab")
    c.remove_completed_job(jid)
    assert "/jobs/" + jid not in c.completed_jobs("lab")
    ok("remove_completed_job of a finished job")
    print("all nmpi calls passed")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        import traceback
        traceback.print_exc()
        sys.exit(1)
