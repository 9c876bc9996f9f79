"""Write the hostile-input corpus used by tests/test_hostile_inputs.py into tests/data/hostile/.

Every file is small and deterministic (re-running gives identical bytes, except the zips'
shapefile members, which GDAL writes with a fixed layout too). Big inputs (the zip bomb, the
1,000,000-row CSV) are built by the tests in a temp folder instead of being committed.

    python scripts/make_hostile_corpus.py [--out tests/data/hostile]
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "hostile"
HOSTILE = "<img src=x onerror=alert(1)>"
FIXED_DATE = (2026, 1, 1, 0, 0, 0)  # zip member timestamps: reproducible bytes

# Real places (lon, lat): Rockdale TX, Denton TX, Childress TX
PLACES = [(-97.0014, 30.6552), (-97.13307, 33.21484), (-100.2045, 34.4265)]


def utm14(places: list[tuple[float, float]] = PLACES) -> list[tuple[float, float]]:
    """The places in UTM zone 14N (EPSG:32614), rounded to 1 cm."""
    from pyproj import Transformer

    fwd = Transformer.from_crs(4326, 32614, always_xy=True)
    return [tuple(round(v, 2) for v in fwd.transform(x, y)) for x, y in places]  # type: ignore[misc]


def _fc(features: list[dict], crs: str | None = None) -> dict:
    out: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        out["crs"] = {"type": "name", "properties": {"name": crs}}
    return out


def _feat(n: int, geometry: dict | None, **props: object) -> dict:
    return {"type": "Feature", "properties": {"n": n, **props}, "geometry": geometry}


def _pt(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def _line(*xy: tuple[float, float]) -> dict:
    return {"type": "LineString", "coordinates": [list(p) for p in xy]}


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def _geojson(out: Path) -> None:
    good = _fc([_feat(i + 1, _pt(x, y), name=f"place {i + 1}") for i, (x, y) in enumerate(PLACES)])
    text = json.dumps(good, indent=1)
    (out / "truncated.geojson").write_text(text[: len(text) // 2], encoding="utf-8")
    (out / "broken_syntax.geojson").write_text(text.replace('"Point",', '"Point",,', 1), encoding="utf-8")
    (out / "json_array.geojson").write_text("[1, 2, 3]\n", encoding="utf-8")
    (out / "deep_nesting.geojson").write_text("[" * 20_000 + "]" * 20_000, encoding="utf-8")
    _write_json(out / "points_only.geojson", good)
    _write_json(out / "mixed_geometries.geojson", _fc([
        _feat(1, _line(PLACES[0], PLACES[1]), voltage="345000"),
        _feat(2, _line(PLACES[1], PLACES[2]), voltage="138 kV"),
        _feat(3, _pt(*PLACES[0]), voltage="345000"),
        _feat(4, {"type": "Polygon", "coordinates": [[[-97, 30], [-96, 30], [-96, 31], [-97, 30]]]}),
    ]))
    # json.dumps writes NaN/Infinity literals, which GDAL's parser accepts: the importer must drop them
    (out / "nan_inf_coords.geojson").write_text(json.dumps(_fc([
        _feat(1, _pt(float("nan"), 30.0)),
        _feat(2, _pt(-97.0, float("inf"))),
        _feat(3, _line((-97.0, 30.0), (float("-inf"), 31.0))),
        _feat(4, _pt(*PLACES[0]), name="kept"),
    ]), indent=1), encoding="utf-8")
    (out / "overflow_number.geojson").write_text(
        text.replace(str(PLACES[0][0]), "1e400", 1), encoding="utf-8")
    _write_json(out / "out_of_range.geojson", _fc([
        _feat(1, _pt(500.0, 30.0)),
        _feat(2, _pt(-97.0, -200.0)),
        _feat(3, _pt(30.6552, -97.0014)),  # lat/lon swapped: latitude -97 is impossible
        _feat(4, _pt(*PLACES[1]), name="kept"),
    ]))
    _write_json(out / "degenerate_geometries.geojson", _fc([
        _feat(1, _line(PLACES[0])),  # a line with one point
        _feat(2, {"type": "Polygon", "coordinates": [[[-97, 30], [-96, 31]]]}),  # a ring with two points
        _feat(3, _line(PLACES[0], PLACES[2]), name="kept"),
    ]))
    _write_json(out / "projected_without_crs.geojson",
                _fc([_feat(i + 1, _pt(x, y)) for i, (x, y) in enumerate(utm14())]))
    _write_json(out / "legacy_crs_member_utm14.geojson",
                _fc([_feat(i + 1, _pt(x, y)) for i, (x, y) in enumerate(utm14())], crs="urn:ogc:def:crs:EPSG::32614"))
    _write_json(out / "no_geometry.geojson", _fc([_feat(1, None), _feat(2, None)]))
    _write_json(out / "hostile_attributes.geojson", _fc([
        _feat(1, _line(PLACES[0], PLACES[1]), name=HOSTILE, operator="</script><script>alert(2)</script>",
              voltage="345000"),
    ]))


def _shapefiles(out: Path) -> None:
    import geopandas as gpd
    import pyogrio
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        gdf = gpd.GeoDataFrame({"name": ["Rockdale", "Denton", "Childress"], "kv": [345, 138, 230]},
                               geometry=[shapely.Point(x, y) for x, y in utm14()], crs=None)
        pyogrio.write_dataframe(gdf, t / "no_prj.shp")
        for name, drop in (("no_prj", ".prj"), ("no_dbf", ".dbf"), ("no_shx", ".shx")):
            folder = out / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            src_crs = None if name == "no_prj" else "EPSG:32614"
            pyogrio.write_dataframe(gdf.set_crs(src_crs, allow_override=True) if src_crs else gdf,
                                    folder / f"{name}.shp")
            (folder / f"{name}{drop}").unlink(missing_ok=True)
        _zip(out / "no_prj.zip", {f"data/no_prj{s}": (out / "no_prj" / f"no_prj{s}").read_bytes()
                                  for s in (".shp", ".shx", ".dbf")})
        member = {f"pts{s}": (out / "no_dbf" / f"no_dbf{s}").read_bytes() for s in (".shp", ".shx", ".prj")}
        ok_members = {**member}
        pyogrio.write_dataframe(gdf.set_crs("EPSG:32614", allow_override=True), t / "pts.shp")
        ok_members["pts.dbf"] = (t / "pts.dbf").read_bytes()
        _zip(out / "traversal_backslash.zip", {**ok_members, "..\\..\\evil.txt": b"x"})
        _zip(out / "traversal_drive.zip", {**ok_members, "C:/Windows/evil.txt": b"x"})
        _zip(out / "traversal_nested.zip", {**ok_members, "data/../../evil.txt": b"x"})
        _zip(out / "nested_zip_only.zip", {"inner.zip": _zip_bytes(ok_members)})


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, FIXED_DATE), data)
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> None:
    path.write_bytes(_zip_bytes(members))


def _csv(out: Path) -> None:
    header = "site_id,name,operator,lon,lat,power_capacity_mw,energized_mw\n"
    rows = [("RKD", "Rockdale", "Riot", *PLACES[0], "700", "450"),
            ("DEN", "Denton", "Core Scientific", *PLACES[1], "394", "125"),
            ("CHI", "Childress", "Hut 8", *PLACES[2], "450", "300")]

    def lines(sep: str = ",", dec: str = ".") -> str:
        return "".join(sep.join(str(v).replace(".", dec) for v in r) + "\n" for r in rows)

    (out / "sites_bom_semicolon_decimal_comma.csv").write_bytes(
        b"\xef\xbb\xbf" + (header.replace(",", ";") + lines(";", ",")).replace("450;300", "450,5;300").encode())
    (out / "sites_cp1252.csv").write_bytes(
        ("site_id,name,lon,lat\nZUR,Z\u00fcrich \u2013 caf\u00e9 \u201cs\u00fcd\u201d,-97.0014,30.6552\n"
         "ASU,\u00d1and\u00fa,-97.13307,33.21484\n").encode("cp1252"))
    (out / "sites_latin1.csv").write_bytes(
        "site_id,name,lon,lat\nGEN,Gen\u00e8ve \u00e0 \u00ff,-97.0014,30.6552\n".encode("latin-1"))
    (out / "sites_duplicate_ids.csv").write_text(header + lines() + "DEN,Denton again,x,-97.1,33.2,10,5\n"
                                                 .replace(",x,", ",Other,"), encoding="utf-8")
    (out / "sites_units_in_cells.csv").write_text(
        "site_id,name,lon,lat,power_capacity_mw,energized_mw,land_acres\n"
        "RKD,Rockdale,-97.0014,30.6552,700 MW,450MW,265 acres\n"
        "DEN,Denton,-97.13307,33.21484,394,125 MW,\n", encoding="utf-8")
    (out / "sites_wrong_units.csv").write_text(
        "site_id,name,lon,lat,power_capacity_mw\nRKD,Rockdale,-97.0014,30.6552,700 MW\n"
        "DEN,Denton,-97.13307,33.21484,1.5 GW\n", encoding="utf-8")
    (out / "sites_thousands_separator.csv").write_text(
        'site_id,name,lon,lat,power_capacity_mw\nRKD,Rockdale,-97.0014,30.6552,"1,234"\n', encoding="utf-8")
    (out / "sites_nan_inf.csv").write_text(
        "site_id,name,lon,lat,energized_mw\nRKD,Rockdale,-97.0014,30.6552,inf\nDEN,Denton,nan,inf,10\n",
        encoding="utf-8")
    (out / "sites_unterminated_quote.csv").write_text(header + '"RKD,Rockdale,Riot,-97,30,700,450\n',
                                                      encoding="utf-8")
    (out / "sites_binary.csv").write_bytes(b"site_id,name,lon,lat\n\x00\x01\x02\xff\xfe")
    (out / "sites_hostile_text.csv").write_text(
        "site_id,name,operator,notes,lon,lat\n"
        f'EVIL,"{HOSTILE}","=HYPERLINK(""http://x"")","</script><script>alert(1)</script> \x07bell",'
        "-97.0014,30.6552\n", encoding="utf-8")
    (out / "sites_header_only.csv").write_text(header, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    _geojson(args.out)
    _shapefiles(args.out)
    _csv(args.out)
    print(f"wrote {sum(1 for p in args.out.rglob('*') if p.is_file())} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
