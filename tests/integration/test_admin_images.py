"""The admin portal's product images, over HTTPS through nginx: uploads are
multipart bodies parsed by libmicrohttpd's post processor, told apart by
their content (never their name or Content-Type), re-encoded by libvips into
the storefront's sizes without the upload's metadata, stored under
MEDIA_DIR with random names, served by nginx under /media/ and shown on the
product page at once (page-cache bump); refusals leave nothing behind.

Fixtures: tests/integration/fixtures/images/ — shoe-gps.jpg (1600 x 1200,
EXIF with the camera's make and model and a GPS position), shoe.webp
(640 x 480); PNGs are made here with the standard library."""
import json
import os
import re
import struct
import uuid
import zlib
from pathlib import Path

import pytest

from shoppers import CSRF_RX, Shopper, Staff, admin_path

FIXTURES = Path(__file__).parent / "fixtures" / "images"
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
       b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
IMG_URL_RX = re.compile(r"/media/images/[0-9a-f]{2}/[0-9a-f]{32}-(?:1200|600)\.webp")


# ------------------------------------------------------------------ images made here

def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, rows, colour_type=2, depth=8):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows, 6)) + _chunk(b"IEND", b"")


def png_banner(width=900, height=300):
    """An RGBA picture, wider than tall, with see-through corners."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        line = bytearray()
        for x in range(0, width, 10):
            a = 0 if (x < 60 and y < 60) else 255
            line += bytes((x * 255 // width, y * 255 // height, 160, a)) * 10
        rows += line[:width * 4]
    return png(width, height, bytes(rows), colour_type=6)


def png_noise(width, height):
    """Random pixels: a PNG that cannot be compressed (its size ~ w x h x 3)."""
    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    return png(width, height, rows)


def png_bomb(width=10000, height=10000):
    """A valid 1-bit PNG of width x height black pixels: ~12 KB that would
    decode to 100 megapixels."""
    row = b"\x00" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


# ------------------------------------------------------------------ reading what was stored

def webp_info(data):
    """{width, height, chunks, exif_tags} of a WebP file (RIFF container)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    chunks, exif, width, height = [], None, None, None
    i = 12
    while i + 8 <= len(data):
        kind, size = data[i:i + 4], struct.unpack("<I", data[i + 4:i + 8])[0]
        body = data[i + 8:i + 8 + size]
        chunks.append(kind.decode("latin-1"))
        if kind == b"VP8X":
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
        elif kind == b"VP8 " and width is None:
            width, height = struct.unpack("<HH", body[6:10])
            width, height = width & 0x3FFF, height & 0x3FFF
        elif kind == b"VP8L" and width is None:
            bits = int.from_bytes(body[1:5], "little")
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        elif kind == b"EXIF":
            exif = body
        i += 8 + size + (size & 1)
    tags = set()
    if exif:
        tiff = exif[6:] if exif[:6] == b"Exif\x00\x00" else exif
        order = "<" if tiff[:2] == b"II" else ">"
        off = struct.unpack(order + "I", tiff[4:8])[0]
        n = struct.unpack(order + "H", tiff[off:off + 2])[0]
        tags = {struct.unpack(order + "H", tiff[off + 2 + 12 * k:off + 4 + 12 * k])[0] for k in range(n)}
    return {"width": width, "height": height, "chunks": chunks, "exif_tags": tags}


GPS_INFO, MAKE, MODEL = 0x8825, 0x010F, 0x0110


def assert_clean(data):
    """Nothing of the upload's metadata: no GPS, no camera, no XMP or ICC."""
    info = webp_info(data)
    assert "XMP " not in info["chunks"] and "ICCP" not in info["chunks"], info["chunks"]
    assert not info["exif_tags"] & {GPS_INFO, MAKE, MODEL}, info["exif_tags"]
    for needle in (b"ShoEaseCam", b"Model GPS-1"):
        assert needle not in data, needle
    return info


# ------------------------------------------------------------------ fixtures

@pytest.fixture
def staff(https_url, tls_cert, shoease_cli, stack):
    return Staff.create(https_url, tls_cert, shoease_cli, stack, role="staff")


@pytest.fixture
def media(state):
    return Path(state["paths"]["media_dir"])


@pytest.fixture
def product(stack):
    """A product of its own (two colours, a few sizes), so these tests never
    change what other tests look at. {id, slug, colours: [{id, slug, name}] x 2}."""
    slug = "image-test-" + uuid.uuid4().hex[:10]
    colours = [{"id": int(r[0]), "slug": r[1], "name": r[2]}
               for r in stack.mariadb_rows("SELECT id, slug, name FROM colours ORDER BY position, id LIMIT 2")]
    assert len(colours) == 2, "the seed has no colours"
    sql = ("INSERT INTO products (slug, name, description, brand_id, category_id, price, gender, tags) "
           "SELECT '%s', 'Image Test Runner %s', 'A shoe for the image tests.', "
           "(SELECT id FROM brands ORDER BY id LIMIT 1), (SELECT category_id FROM products ORDER BY id LIMIT 1), "
           "7999, 'unisex', 'test';" % (slug, slug[-4:]))
    # (a variant's trigger updates products: no INSERT … SELECT FROM products)
    sql += "SET @p = (SELECT id FROM products WHERE slug = '%s');" % slug
    for i, colour in enumerate(colours):
        for size in (8, 9):
            sql += ("INSERT INTO variants (product_id, colour_id, sku, size_value, size_label, stock) "
                    "VALUES (@p, %d, '%s-%d-%d', %d, 'UK %d', 5);" % (colour["id"], slug.upper(), i, size, size, size))
    stack.mariadb(sql, readonly=False)
    pid = int(stack.mariadb("SELECT id FROM products WHERE slug = '%s'" % slug))
    return {"id": pid, "slug": slug, "colours": colours}


def images_of(stack, product_id):
    rows = stack.mariadb_rows("SELECT id, url, card_url, alt, position FROM product_images "
                              "WHERE product_id = %d ORDER BY position, id" % product_id)
    return [{"id": int(r[0]), "url": r[1], "card_url": r[2], "alt": r[3], "position": int(r[4])} for r in rows]


def audit_rows(stack, ids):
    if not ids:
        return []
    rows = stack.mariadb_rows("SELECT action, entity, entity_id, COALESCE(before_json, 'null'), "
                              "COALESCE(after_json, 'null') FROM audit_log WHERE entity = 'product_image' AND "
                              "entity_id IN (%s) ORDER BY id" % ",".join("'%d'" % i for i in ids))
    return [{"action": r[0], "entity_id": int(r[2]), "before": json.loads(r[3]), "after": json.loads(r[4])}
            for r in rows]


def stored_files(media):
    d = media / "images"
    return sorted(str(p.relative_to(media)) for p in d.rglob("*") if p.is_file()) if d.exists() else []


def upload(staff, product, name, data, content_type="image/jpeg", alt="", token=True, **kw):
    suffix = "/products/%d/images" % product["id"]
    return staff.admin_post(suffix, {"alt": alt}, form_path=suffix, token=token,
                            files={"image": (name, data, content_type)}, **kw)


def field_error(html, field_id):
    """The message beside a field (field__error with id <field_id>-error)."""
    m = re.search(r'<p class="field__error" id="%s-error">([^<]+)</p>' % re.escape(field_id), html)
    return m.group(1) if m else None


# ------------------------------------------------------------------ tests

def test_upload_jpeg_png_webp_reencoded_stored_served_and_shown(staff, product, stack, media, session, https_url):
    shop_page = "/products/%s" % product["slug"]
    # the product page is cached before the uploads (asked for twice: admitted)
    for _ in range(2):
        assert session.get(https_url + shop_page, timeout=20).status_code == 200
    page = staff.admin_get("/products/%d/images" % product["id"])
    assert page.status_code == 200, page.text[:300]
    assert 'enctype="multipart/form-data"' in page.text and "No images yet" in page.text
    assert "private, no-store" in page.headers["Cache-Control"]

    jpeg = (FIXTURES / "shoe-gps.jpg").read_bytes()
    assert b"ShoEaseCam" in jpeg  # the fixture's EXIF: a camera and a GPS position
    r = upload(staff, product, "holiday photo.jpg", jpeg, alt="Image Test Runner, side view")
    assert r.status_code == 303, (r.status_code, r.text[:500])
    assert r.headers["Location"] == staff.admin + "/products/%d/images" % product["id"]
    r = upload(staff, product, "banner.png", png_banner(), content_type="image/png")
    assert r.status_code == 303, (r.status_code, r.text[:500])
    webp = (FIXTURES / "shoe.webp").read_bytes()
    r = upload(staff, product, "shoe.webp", webp, content_type="image/webp", alt="Top view")
    assert r.status_code == 303, (r.status_code, r.text[:500])

    rows = images_of(stack, product["id"])
    assert [x["position"] for x in rows] == [0, 1, 2]
    assert [x["alt"] for x in rows] == ["Image Test Runner, side view", "", "Top view"]
    expected = [((1200, 900), (600, 450)), ((900, 300), (600, 200)), ((640, 480), (600, 450))]
    originals = [jpeg, None, webp]
    for row, (large, card), original in zip(rows, expected, originals):
        for url, size in ((row["url"], large), (row["card_url"], card)):
            assert IMG_URL_RX.fullmatch(url), url
            data = (media / url[len("/media/"):]).read_bytes()
            info = assert_clean(data)
            assert (info["width"], info["height"]) == size, (url, info)
            if original is not None:
                assert data != original
            # nginx serves the stored bytes as they are, as an image, cached for a year
            got = session.get(https_url + url, timeout=20)
            assert got.status_code == 200 and got.content == data
            assert got.headers["Content-Type"] == "image/webp"
            assert got.headers.get("X-Content-Type-Options") == "nosniff"
            assert "immutable" in got.headers.get("Cache-Control", "")
    # the PNG's see-through corner stays see-through (WebP with alpha)
    assert "ALPH" in webp_info((media / rows[1]["url"][len("/media/"):]).read_bytes())["chunks"]
    # random names: the two renditions share one, nothing of the upload's name
    assert rows[0]["url"][:-len("-1200.webp")] == rows[0]["card_url"][:-len("-600.webp")]
    assert "holiday" not in "".join(stored_files(media))

    # the storefront: the product page shows all three at once (its cached
    # copy was refreshed), the card uses the first image's small rendition
    html = session.get(https_url + shop_page, timeout=20).text
    for row in rows:
        assert row["url"] in html
    assert 'alt="Image Test Runner, side view"' in html
    card = stack.mariadb("SELECT card_image_url FROM products WHERE id = %d" % product["id"])
    assert card == rows[0]["card_url"]

    # the admin screen lists them in order, the first marked primary
    page = staff.admin_get("/products/%d/images" % product["id"]).text
    assert page.index(rows[0]["card_url"]) < page.index(rows[1]["card_url"]) < page.index(rows[2]["card_url"])
    assert "Primary" in page and "The image was added" in page

    # one audit row per upload, with what a reviewer needs
    audit = audit_rows(stack, [x["id"] for x in rows])
    assert [a["action"] for a in audit] == ["image.upload"] * 3
    first = audit[0]["after"]
    assert first["url"] == rows[0]["url"] and first["product_id"] == product["id"] and first["position"] == 1
    assert first["uploaded"] == {"type": "JPEG", "width": 1600, "height": 1200, "bytes": len(jpeg),
                                 "filename": "holiday photo.jpg"}
    assert audit[1]["after"]["uploaded"]["type"] == "PNG" and audit[2]["after"]["uploaded"]["type"] == "WebP"
    assert audit[0]["before"] is None


def test_reorder_make_primary_describe_and_delete(staff, product, stack, media, session, https_url):
    webp = (FIXTURES / "shoe.webp").read_bytes()
    for alt in ("first", "second", "third"):
        assert upload(staff, product, alt + ".webp", webp, content_type="image/webp", alt=alt).status_code == 303
    rows = images_of(stack, product["id"])
    ids = [x["id"] for x in rows]
    base = "/products/%d/images" % product["id"]

    def post(image_id, action, data):
        return staff.admin_post("%s/%d/%s" % (base, image_id, action), data, form_path=base)

    # make the third the primary one: order 3, 1, 2; the card follows
    r = post(ids[2], "move", {"to": "first"})
    assert r.status_code == 303, r.text[:300]
    now = images_of(stack, product["id"])
    assert [x["id"] for x in now] == [ids[2], ids[0], ids[1]]
    assert [x["position"] for x in now] == [0, 1, 2]
    assert stack.mariadb("SELECT card_image_url FROM products WHERE id = %d" % product["id"]) == now[0]["card_url"]
    html = session.get(https_url + "/products/%s" % product["slug"], timeout=20).text
    assert html.index(now[0]["url"]) < html.index(now[1]["url"]) < html.index(now[2]["url"])
    # down, then up again
    assert post(ids[0], "move", {"to": "down"}).status_code == 303
    assert [x["id"] for x in images_of(stack, product["id"])] == [ids[2], ids[1], ids[0]]
    assert post(ids[0], "move", {"to": "up"}).status_code == 303
    assert [x["id"] for x in images_of(stack, product["id"])] == [ids[2], ids[0], ids[1]]
    # the first cannot move up, the last not down: nothing happens, nothing recorded
    assert post(ids[2], "move", {"to": "up"}).status_code == 303
    assert post(ids[1], "move", {"to": "down"}).status_code == 303
    assert post(ids[0], "move", {"to": "sideways"}).status_code == 400

    # describe: the alt text (trimmed); naming a colour makes the product
    # page show this image when a shopper picks that colour
    second = product["colours"][1]
    described = "Side view in %s" % second["name"]
    r = post(ids[0], "edit", {"alt": "  %s " % described})
    assert r.status_code == 303, r.text[:300]
    row = [x for x in images_of(stack, product["id"]) if x["id"] == ids[0]][0]
    assert row["alt"] == described
    html = session.get(https_url + "/products/%s" % product["slug"], timeout=20).text
    m = re.search(r'value="%s"[^>]*data-image="(\d+)"' % re.escape(second["slug"]), html)
    assert m and m.group(1) == "2", m and m.group(0)  # image 2 in the gallery: the one described
    # the same again changes nothing and records nothing
    assert post(ids[0], "edit", {"alt": described}).status_code == 303
    # refused beside the field, nothing changed: too long, a control character
    for data, message in (({"alt": "x" * 300}, "under 255"), ({"alt": "a\x01b"}, "control characters")):
        r = post(ids[0], "edit", data)
        assert r.status_code == 422, (data, r.status_code)
        assert message in (field_error(r.text, "alt-%d" % ids[0]) or "")
    row = [x for x in images_of(stack, product["id"]) if x["id"] == ids[0]][0]
    assert row["alt"] == described

    # delete (the staff member typed their password at sign-in, moments ago)
    gone = images_of(stack, product["id"])[0]
    r = post(gone["id"], "delete", {})
    assert r.status_code == 303, r.text[:300]
    left = images_of(stack, product["id"])
    assert [x["id"] for x in left] == [ids[0], ids[1]] and [x["position"] for x in left] == [0, 1]
    for url in (gone["url"], gone["card_url"]):
        assert not (media / url[len("/media/"):]).exists()
        assert session.get(https_url + url, timeout=20).status_code == 404
    assert stack.mariadb("SELECT card_image_url FROM products WHERE id = %d" % product["id"]) == left[0]["card_url"]
    assert gone["url"] not in session.get(https_url + "/products/%s" % product["slug"], timeout=20).text
    # an image of another product, or one that is gone, or no such product: 404
    assert post(gone["id"], "delete", {}).status_code == 404
    assert staff.admin_get("/products/4000000000/images").status_code == 404

    actions = [a["action"] for a in audit_rows(stack, ids)]
    assert actions.count("image.upload") == 3
    assert actions.count("image.primary") == 1 and actions.count("image.move") == 2
    assert actions.count("image.edit") == 1 and actions.count("image.delete") == 1
    primary = [a for a in audit_rows(stack, ids) if a["action"] == "image.primary"][0]
    assert primary["before"]["order"] == ids and primary["after"]["order"] == [ids[2], ids[0], ids[1]]
    edit = [a for a in audit_rows(stack, ids) if a["action"] == "image.edit"][0]
    assert edit["before"]["alt"] == "first" and edit["after"]["alt"] == described
    deleted = [a for a in audit_rows(stack, ids) if a["action"] == "image.delete"][0]
    assert deleted["after"] is None and deleted["before"]["url"] == gone["url"]


@pytest.mark.parametrize("name,data,content_type,message", [
    ("shoe.jpg", b"This is not a photo of a shoe.\n" * 20, "image/jpeg", "not a JPEG, PNG or WebP"),
    ("shoe.jpg", GIF, "image/jpeg", "GIF image"),
    ("shoe.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml", "SVG"),
    ("cut.jpg", None, "image/jpeg", "damaged or incomplete"),
    ("bomb.png", None, "image/png", "megapixels"),
    ("tiny.png", None, "image/png", "at least 200"),
    ("", b"", "application/octet-stream", "Choose an image file"),
])
def test_a_file_that_only_claims_to_be_an_image_is_refused(staff, product, stack, media, name, data,
                                                           content_type, message):
    if name == "cut.jpg":
        jpeg = (FIXTURES / "shoe-gps.jpg").read_bytes()
        data = jpeg[:len(jpeg) // 2]
    elif name == "bomb.png":
        data = png_bomb()
        assert len(data) < 64 * 1024
    elif name == "tiny.png":
        data = png(50, 40, b"".join(b"\x00" + b"\x80" * 150 for _ in range(40)))
    before = stored_files(media)
    r = upload(staff, product, name, data, content_type=content_type, alt="kept when refused")
    assert r.status_code == 422, (r.status_code, r.text[:300])
    said = field_error(r.text, "upload-image")
    assert said and message in said, said
    assert 'value="kept when refused"' in r.text  # what was typed is kept
    assert images_of(stack, product["id"]) == []
    assert stored_files(media) == before


def test_upload_limits_and_csrf(staff, product, stack, media, raw, https_url, direct_url):
    suffix = "/products/%d/images" % product["id"]
    before = stored_files(media)
    # 2 MB of incompressible pixels: over MAX_BODY_BYTES (1 MiB), within UPLOAD_MAX_BYTES
    big = png_noise(1000, 700)
    assert 2_000_000 < len(big) < 10 * 1024 * 1024
    r = upload(staff, product, "noise.png", big, content_type="image/png")
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert len(images_of(stack, product["id"])) == 1

    # over UPLOAD_MAX_BYTES: 413 (nginx stops it; the app would too)
    token = staff.token(staff.admin + suffix)
    boundary = "x" + uuid.uuid4().hex
    body = ("--%s\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"huge.png\"\r\n"
            "Content-Type: image/png\r\n\r\n" % (boundary, token, boundary)).encode() + b"\0" * (11 * 1024 * 1024) + \
           ("\r\n--%s--\r\n" % boundary).encode()
    headers = {"Cookie": "__Host-sid=" + staff.sid, "Origin": staff.origin,
               "Content-Type": "multipart/form-data; boundary=" + boundary}
    r = raw(https_url, staff.admin + suffix, method="POST", body=body, headers=headers, timeout=60)
    assert r.status == 413, (r.status, r.error)
    # the app's own limit, on its port (no nginx in front): 413 for staff,
    # the ordinary 404 for anyone else
    r = raw(direct_url, staff.admin + suffix, method="POST", body=body, headers=headers, timeout=60)
    assert r.status == 413 and b"10.0 MB" in r.body, (r.status, r.error, r.body[:300])
    anonymous = {k: v for k, v in headers.items() if k != "Cookie"}
    r = raw(direct_url, staff.admin + suffix, method="POST", body=body, headers=anonymous, timeout=60)
    assert r.status == 404, (r.status, r.error)

    # no token, a wrong token: 403, nothing stored
    jpeg = (FIXTURES / "shoe-gps.jpg").read_bytes()
    for token in (None, "x" * 43):
        r = staff.admin_post(suffix, {"alt": "forged"}, form_path=suffix, token=token,
                             files={"image": ("shoe.jpg", jpeg, "image/jpeg")})
        assert r.status_code == 403, r.status_code
    # the token in the URL instead of the body does not count either
    r = staff.s.post(https_url + staff.admin + suffix + "?csrf_token=" + staff.token(staff.admin + suffix),
                     files={"image": ("shoe.jpg", jpeg, "image/jpeg")}, headers={"Origin": staff.origin},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 403
    # a cut-off multipart body (no closing boundary) has no fields: no token, 403
    cut = body[:400]
    r = raw(https_url, staff.admin + suffix, method="POST", body=cut, headers=headers, timeout=30)
    assert r.status == 403, r.status
    assert len(images_of(stack, product["id"])) == 1
    assert len(stored_files(media)) == len(before) + 2


def test_upload_path_is_an_ordinary_404_for_everyone_else(https_url, tls_cert, mailbox, stack, product, raw):
    admin = admin_path(stack)
    guessed = "/staff-" + uuid.uuid4().hex[:20]
    suffix = "/products/%d/images" % product["id"]
    shopper = Shopper(https_url, tls_cert).register(mailbox, name="Curious Uploader")
    token = CSRF_RX.search(shopper.get("/account/profile").text).group(1)
    jpeg = (FIXTURES / "shoe-gps.jpg").read_bytes()
    boundary = "b" + uuid.uuid4().hex
    for size in (0, 2 * 1024 * 1024):  # small, and over MAX_BODY_BYTES (within the upload limit)
        body = ("--%s\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n%s\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
                "Content-Type: image/jpeg\r\n\r\n" % (boundary, token, boundary)).encode() + jpeg + b"\0" * size + \
               ("\r\n--%s--\r\n" % boundary).encode()
        for cookie in ("", "__Host-sid=" + shopper.sid):
            answers = []
            for prefix in (admin, guessed):
                headers = {"Origin": shopper.origin, "Content-Type": "multipart/form-data; boundary=" + boundary}
                if cookie:
                    headers["Cookie"] = cookie
                r = raw(https_url, prefix + suffix, method="POST", body=body, headers=headers, timeout=60)
                assert r.status == 404, (prefix, size, bool(cookie), r.status, r.error)
                h = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}
                answers.append((r.status, h, re.sub(rb"[0-9a-f]{32}", b"<id>", r.body)))
            assert answers[0] == answers[1], (size, bool(cookie))
    assert images_of(stack, product["id"]) == []


def test_multipart_is_parsed_only_where_a_route_takes_uploads(https_url, tls_cert, mailbox, shoease_cli):
    """A multipart body elsewhere has no fields (its token is not seen):
    only the image upload route lets libmicrohttpd's post processor run."""
    shopper = Shopper(https_url, tls_cert).register(mailbox, name="Multipart Shopper")
    token = shopper.token("/account/profile")
    r = shopper.s.post(https_url + "/account/profile", files={"csrf_token": (None, token), "name": (None, "Changed")},
                       headers={"Origin": shopper.origin}, allow_redirects=False, timeout=30)
    assert r.status_code == 403
    routes = json.loads(shoease_cli("routes").stdout)
    uploads = [(x["method"], x["pattern"]) for x in routes if x.get("upload")]
    assert len(uploads) == 1 and uploads[0][0] == "POST" and uploads[0][1].endswith("/products/{id}/images"), uploads
