"""The desk's page for the clinic's own sets (Flask's test client, real files): who may open
it, every problem beside its line, saves that are whole, checked and backed up, and the
procedure list that follows the folder without a restart. In a real browser:
test_web_browser.py (test_the_clinic_sets_page_*)."""

import re
import shutil
from pathlib import Path

import pytest
from helpers import DATA

from pars_docs import load_site
from pars_docs.web.accounts import Accounts
from pars_docs.web.server import build

BASE = "http://127.0.0.1:8765"
PASSWORD = "correct horse battery"
CLINIC = Path(__file__).resolve().parent.parent / "docs" / "examples" / "clinic" / "instructions"
SET = "pars-defect-injection.yaml"


def clinic_site(folder: Path, extra: str = "") -> Path:
    sets = folder / "instructions"
    sets.mkdir()
    for path in CLINIC.glob("*.yaml"):
        shutil.copy(path, sets)
    site = folder / "site.yaml"
    site.write_text(
        (DATA / "site-ny.yaml").read_text(encoding="utf-8")
        + "\ninstructions_dir: instructions\n"
        + extra,
        encoding="utf-8",
    )
    return site


@pytest.fixture
def desk(tmp_path):
    site = clinic_site(tmp_path)
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path / "work", warm=False)
    return app, tmp_path / "instructions"


def csrf_of(client, path="/"):
    page = client.get(path, base_url=BASE).text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post(client, path, data, page="/"):
    return client.post(path, base_url=BASE, data={"csrf": csrf_of(client, page), **data})


def test_the_folder_page_lists_each_file_and_each_problem_beside_its_line(desk):
    app, folder = desk
    text = (folder / SET).read_text(encoding="utf-8")
    broken = text.replace("  stop_solids:\n    hours: 8\n", "  stop_solids:\n    hours: 9\n")
    (folder / "broken.yaml").write_text(
        broken.replace("id: pars-defect-injection", "id: broken"), encoding="utf-8"
    )
    page = app.test_client().get("/clinic", base_url=BASE)
    assert page.status_code == 200
    html = page.text
    assert f'href="/clinic/{SET}"' in html
    row = html.split('href="/clinic/broken.yaml"')[1].split("</tr>\n  <tr")[0]
    assert "Fails" in row
    line = broken.splitlines().index("    hours: 9") + 1
    assert f'<td class="num">{line}</td><td><code>    hours: 9</code></td>' in row
    assert "9 is credited to &#39;clinic-policy&#39;, whose facts do not mention it" in row
    good = html.split(f'href="/clinic/{SET}"')[1].split("</tr>")[0]
    assert "Passes" in good and "the clinic&#39;s changes to built-in" in good
    # The desk's form says the broken set is left out of its list, and why.
    form = app.test_client().get("/", base_url=BASE).text
    notice = form.split('id="left-out"')[1].split("</div>")[0]
    assert "broken" in notice and "9 is credited to" in notice
    assert 'value="broken"' not in form


def test_a_save_that_fails_check_writes_nothing(desk):
    app, folder = desk
    before = (folder / SET).read_bytes()
    client = app.test_client()
    text = before.decode("utf-8").replace("hours: 8", "hours: 9")
    response = post(client, f"/clinic/{SET}", {"text": text}, page=f"/clinic/{SET}")
    assert response.status_code == 422
    assert "Not saved" in response.text and "9 is credited to" in response.text
    assert (folder / SET).read_bytes() == before
    assert not (folder / ".backups").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in CLINIC.glob("*.yaml"))


def test_a_save_that_passes_is_written_whole_with_a_backup_and_offered_at_once(desk):
    app, folder = desk
    client = app.test_client()
    before = (folder / SET).read_text(encoding="utf-8")
    (folder / SET).chmod(0o640)
    text = before + "title: Pars injection at Cedar Valley\n"
    response = post(client, f"/clinic/{SET}", {"text": text}, page=f"/clinic/{SET}")
    assert response.status_code == 303, response.text
    assert (folder / SET).read_text(encoding="utf-8") == text
    assert (folder / SET).stat().st_mode & 0o777 == 0o640
    backups = list((folder / ".backups").iterdir())
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == before
    # No temporary file left behind; the backup is not read as a set.
    assert sorted(p.name for p in folder.glob(".*")) == [".backups"]
    assert "Saved." in client.get(response.headers["Location"], base_url=BASE).text
    form = client.get("/", base_url=BASE).text
    assert ">Pars injection at Cedar Valley</option>" in form


def test_the_preview_makes_a_sample_handout_from_the_text_being_typed(desk):
    app, folder = desk
    client = app.test_client()
    text = (folder / SET).read_text(encoding="utf-8")
    answer = post(
        client, f"/clinic/{SET}/preview", {"text": text, "sedation": "yes"}, page=f"/clinic/{SET}"
    ).get_json()
    assert answer["ok"] and answer["problems"] == []
    assert "stop eating 8 hours before your shot" in " ".join(answer["text"].split())
    image = client.get(answer["image"], base_url=BASE)
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    misspelt = text.replace('\nversion: "1.0.0"', '\nversoin: "1.0.0"')
    bad = post(
        client, f"/clinic/{SET}/preview", {"text": misspelt}, page=f"/clinic/{SET}"
    ).get_json()
    assert not bad["ok"]
    assert any(p["line"] and "versoin" in p["text"] for p in bad["problems"])
    assert (folder / SET).read_text(encoding="utf-8") == text  # a preview never writes


def test_without_accounts_only_this_computer_may_open_it(desk):
    app, _ = desk
    far = app.test_client()
    for path in ("/clinic", f"/clinic/{SET}"):
        response = far.get(path, base_url=BASE, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 403, path
    assert app.test_client().get("/clinic", base_url=BASE).status_code == 200


def test_with_accounts_only_an_editor_may_open_it(tmp_path):
    site = clinic_site(tmp_path, "accounts: accounts.sqlite\n")
    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("rosa", "nurse", PASSWORD)
    accounts.add("eve", "editor", PASSWORD)
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path / "work", warm=False)
    for name, status in (("rosa", 403), ("eve", 200)):
        client = app.test_client()
        post(client, "/login", {"name": name, "password": PASSWORD}, page="/login")
        assert client.get("/clinic", base_url=BASE).status_code == status, name
        nav = client.get("/", base_url=BASE).text
        assert ('href="/clinic"' in nav) == (status == 200)
    assert app.test_client().get("/clinic", base_url=BASE).status_code == 302  # sign in first


# -- the hints and the form of common changes ----------------------------------------------


def test_the_hints_are_the_schemas_keys_and_descriptions(desk):
    import json

    schema = json.loads(
        (
            Path(__file__).resolve().parents[1] / "instructions" / "instruction-set.schema.json"
        ).read_text(encoding="utf-8")
    )
    app, _ = desk
    client = app.test_client()
    answer = client.get("/clinic/schema-hints?at=timing.stop_solids", base_url=BASE).get_json()
    assert answer["at"] == "timing.stop_solids"
    for key in ("source", "hours", "show", "late_as"):
        assert f'data-key="{key}"' in answer["html"]
    late_as = schema["$defs"]["timing_entry"]["properties"]["late_as"]["description"]
    assert late_as.replace("'", "&#39;") in answer["html"]
    nowhere = client.get("/clinic/schema-hints?at=timing.x.nonsense.y", base_url=BASE)
    assert "nothing at this place" in nowhere.get_json()["html"]
    # A clinic's {add: [...]} stands for the list; a path is only plain names.
    added = client.get("/clinic/schema-hints?at=before.a.items.add.[]", base_url=BASE)
    assert 'data-key="check"' in added.get_json()["html"]
    odd = client.get("/clinic/schema-hints?at=../<script>", base_url=BASE).get_json()
    assert odd["at"] == "" and "<script>" not in odd["html"]


def test_the_hints_are_for_those_who_may_edit(tmp_path):
    site = clinic_site(tmp_path, "accounts: accounts.sqlite\n")
    Accounts(tmp_path / "accounts.sqlite").add("rosa", "nurse", PASSWORD)
    app = build(load_site(site), "127.0.0.1", 8765, None, tmp_path / "work", warm=False)
    client = app.test_client()
    post(client, "/login", {"name": "rosa", "password": PASSWORD}, "/login")
    assert client.get("/clinic/schema-hints", base_url=BASE).status_code == 403
    assert client.get("/clinic/change", base_url=BASE).status_code == 403


def test_the_form_writes_nothing_until_saved_and_keeps_a_whole_set_alone(desk):
    app, folder = desk
    client = app.test_client()
    change = {
        "set": "lumbar-tfesi",
        "kind": "slot",
        "slot": "last",
        "slot_text": "Park in lot B.",
    }
    page = post(client, "/clinic/change", change, "/clinic/change?set=lumbar-tfesi")
    assert page.status_code == 200 and 'id="drafted"' in page.text
    assert 'name="new" value="1"' in page.text
    assert not (folder / "lumbar-tfesi.yaml").exists()
    # Empty: each problem by its field.
    empty = post(
        client, "/clinic/change", {**change, "slot_text": ""}, "/clinic/change?set=lumbar-tfesi"
    )
    assert empty.status_code == 422 and 'id="slot_text-error"' in empty.text
    # A whole set of the clinic's own under a built-in id is not the form's to change.
    own = (folder / "colonoscopy-split-prep.yaml").read_text(encoding="utf-8")
    (folder / "lumbar-tfesi.yaml").write_text(
        own.replace("id: colonoscopy-split-prep", "id: lumbar-tfesi"), encoding="utf-8"
    )
    refused = post(client, "/clinic/change", change, "/clinic/change?set=lumbar-tfesi")
    assert refused.status_code == 422 and "a whole set of its own" in refused.text
    # A new file may be saved only under a built-in set's name.
    text = "format: 2\n"
    for name in ("nothing-built-in.yaml", "..%2Fsite.yaml"):
        saved = post(client, f"/clinic/{name}", {"text": text, "new": "1"}, "/clinic/" + SET)
        assert saved.status_code == 404, name
