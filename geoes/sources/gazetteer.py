"""The offline locality gazetteer: PRNG localities and a point inside each gmina, as fetched into data/.

`Gazetteer.locate` matches a whole frame of rows at once (a pandas merge on a name key, then counts per
row). A locality is placed only when the stated gmina / powiat single it out; homonyms (several
villages called Brzeziny, Ostrów, Wola…) are reported as ambiguous with their candidates, never guessed.

Rules, in order, for a row with a locality:
1. exactly one locality of that name within the stated gmina (or powiat, or the region if neither is
   stated) → that point, precision `locality`;
2. several, of which exactly one is a town (miasto) → the town: a bare town name in a register means
   the town ("WTZ w Jędrzejowie" is not the village Jędrzejów in gmina Bodzechów);
3. several, or none, but a gmina is stated → the gmina's inside point, precision `gmina`, with a note;
4. a hyphenated name not in PRNG ("Kałków-Godów") whose parts all exist and share exactly one gmina →
   that gmina's inside point, precision `gmina`;
5. several, no gmina stated, but all of them in one powiat (two villages called Mieronice, both in
   powiat jędrzejowski) → that powiat, precision `powiat`, no point: the place is known to the powiat
   and no further, and a point anywhere inside it would put the entity into a gmina it may not be in;
6. a locality not in PRNG and no gmina, but a powiat stated → that powiat, precision `powiat`;
7. otherwise not placed: ambiguous (with candidates) or not found.
A row with no locality but a gmina goes to the gmina's inside point (not a centroid that may fall
outside); with only a powiat it is placed to the powiat (precision `powiat`, no point); with nothing,
it is not placed.

`Gazetteer.find_places(text)` answers a person typing a place (`W pobliżu` on the map): the localities of
that name (typed with or without Polish letters, with or without "m."/"wieś"), towns first; if none has
that name, those whose name starts with it. Which one is meant is the reader's choice, except where the
rule of the register holds: exactly one town among several of one name is the town.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoes.common.text import ascii_key, polish_key, text_key
from geoes.config import Settings
from geoes.sources.territory import MissingData

LABEL_GMINA_POINT = "gazetteer:PRG punkt w gminie"
LABEL_POWIAT = "gazetteer:powiat (bez punktu)"
RESULT_COLUMNS = ["status", "lat", "lon", "precision", "geocoder", "matched", "candidates", "reason", "note",
                  "powiat"]

_LOCALITY_PREFIX_RE = re.compile(r"^(?:m\.|miasto|wieś|wies|miejscowość|miejscowosc)\s+")
_GMINA_PREFIX_RE = re.compile(
    r"^(?:urząd\s+)?(?:miasto\s+i\s+gmina|m\.\s*i\s*gm\.|gmina\s+miejsko-wiejska|gmina\s+miejska|"
    r"gmina\s+wiejska|gmina|gm\.|miasto|m\.)\s+")
_POWIAT_PREFIX_RE = re.compile(r"^(?:starostwo\s+powiatowe\s+w\s+|powiat|pow\.|miasto\s+na\s+prawach\s+"
                               r"powiatu|m\.\s*n\.\s*p\.\s*p\.|miasto|m\.)\s*")


def locality_key(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).map(text_key).str.replace(_LOCALITY_PREFIX_RE, "", regex=True)


def _label(source: str) -> str:
    m = re.match(r"PRNG (\d{4})", source or "")
    if m:
        return f"gazetteer:PRNG {m.group(1)}"
    if "OSM" in (source or ""):
        return "gazetteer:OSM Nominatim (ODbL)"
    return "gazetteer:" + (source or "nieznane źródło").split(" via ")[0][:40]


def _read(path) -> pd.DataFrame:
    if not path.exists():
        raise MissingData(
            f"brak pliku {path}: uruchom najpierw `python -m geoes fetch` (lub `fetch --mirror KATALOG`)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass
class Gazetteer:
    localities: pd.DataFrame     # name, kind, lat, lon, gmina_teryt, powiat_teryt, source + key, akey, label
    gmina_points: pd.DataFrame   # teryt, name, lat, lon (a point guaranteed inside the gmina)
    gminy: pd.DataFrame          # teryt, name, powiat_teryt (TERC, gmina level)
    powiaty: pd.DataFrame        # teryt, name

    @classmethod
    def load(cls, settings: Settings) -> "Gazetteer":
        loc = _read(settings.localities_path)
        loc = loc.assign(lat=loc["lat"].astype(float), lon=loc["lon"].astype(float))
        loc["key"] = locality_key(loc["name"])
        loc["akey"] = loc["key"].map(ascii_key)
        loc["label"] = loc["source"].map(_label)
        pts = _read(settings.gmina_points_path)
        pts = pts.assign(lat=pts["lat"].astype(float), lon=pts["lon"].astype(float))
        terc = _read(settings.terc_path)
        gminy = terc.loc[terc["teryt"].str.len().eq(7) & terc["RODZ"].isin(["1", "2", "3"]),
                         ["teryt", "NAZWA"]].rename(columns={"NAZWA": "name"})
        gminy["powiat_teryt"] = gminy["teryt"].str[:4]
        powiaty = terc.loc[terc["teryt"].str.len().eq(4), ["teryt", "NAZWA"]].rename(columns={"NAZWA": "name"})
        return cls(loc.reset_index(drop=True), pts, gminy.reset_index(drop=True),
                   powiaty.reset_index(drop=True))

    # --- unit names (for imports that name the gmina / powiat instead of giving codes) --------------

    def gmina_name(self, teryt: str) -> str:
        hit = self.gminy.loc[self.gminy["teryt"] == teryt, "name"]
        return hit.iloc[0] if len(hit) else teryt

    def resolve_gmina(self, name: str, powiat_teryt: str = "") -> tuple[str, str]:
        """'Gmina Szydłów' / 'Szydłów' / '2612083' → ('2612083', ''); unknown → ('', reason)."""
        value = str(name).strip()
        if not value:
            return "", ""
        if re.fullmatch(r"\d{7}", value):
            return (value, "") if value in set(self.gminy["teryt"]) else ("", f"nieznany kod gminy {value}")
        key = _GMINA_PREFIX_RE.sub("", text_key(value))
        names = self.gminy["name"].map(text_key)
        hits = self.gminy[names.eq(key)]
        if hits.empty:
            hits = self.gminy[names.map(ascii_key).eq(ascii_key(key))]
        if powiat_teryt and len(hits) > 1:
            hits = hits[hits["powiat_teryt"] == powiat_teryt]
        if len(hits) == 1:
            return hits["teryt"].iloc[0], ""
        if hits.empty:
            return "", f"nieznana gmina „{value}” w regionie"
        return "", f"niejednoznaczna gmina „{value}”: {', '.join(hits['teryt'])} (podaj powiat)"

    def resolve_powiat(self, name: str) -> tuple[str, str]:
        value = str(name).strip()
        if not value:
            return "", ""
        if re.fullmatch(r"\d{4}", value):
            return (value, "") if value in set(self.powiaty["teryt"]) else ("", f"nieznany kod powiatu {value}")
        key = _POWIAT_PREFIX_RE.sub("", text_key(value)).strip()
        names = self.powiaty["name"].map(text_key)
        hits = self.powiaty[names.eq(key) | names.map(ascii_key).eq(ascii_key(key))]
        if len(hits) == 1:
            return hits["teryt"].iloc[0], ""
        return "", f"nieznany powiat „{value}” w regionie"

    # --- places a person types ---------------------------------------------------------------------

    def find_places(self, text: str, limit: int = 10) -> tuple[pd.DataFrame, bool]:
        """(localities named `text`, towns first, with their gmina and powiat names; whether they are
        exact matches). Only the part before a comma is the locality ("Jędrzejów, ul. Dworcowa 1")."""
        key = locality_key(pd.Series([str(text).split(",")[0]])).iloc[0]
        if not key:
            return self.localities.iloc[:0], False
        loc = self.localities
        exact = True
        hits = loc[loc["key"].eq(key)]
        if hits.empty:
            hits = loc[loc["akey"].eq(ascii_key(key))]
        if hits.empty:
            exact = False
            hits = loc[loc["key"].str.startswith(key) | loc["akey"].str.startswith(ascii_key(key))]
        gminy = dict(zip(self.gminy["teryt"], self.gminy["name"]))
        powiaty = dict(zip(self.powiaty["teryt"], self.powiaty["name"]))
        hits = hits.assign(gmina_name=hits["gmina_teryt"].map(gminy), powiat_name=hits["powiat_teryt"].map(powiaty),
                           town=hits["kind"].eq("miasto"))
        order = sorted(hits.index, key=lambda i: (not hits.at[i, "town"], polish_key(hits.at[i, "name"]),
                                                 polish_key(hits.at[i, "gmina_name"])))
        return hits.loc[order[:limit]], exact

    # --- placing rows -------------------------------------------------------------------------------

    def _describe(self, names: pd.Series, kinds: pd.Series, gminy: pd.Series) -> pd.Series:
        gnames = gminy.map(dict(zip(self.gminy["teryt"], self.gminy["name"])))
        return names + " (" + kinds + ", gm. " + gnames.fillna("?") + " " + gminy + ")"

    def locate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Place each row (columns locality, gmina_teryt, powiat_teryt) from the gazetteer.

        Returns a frame on the same index with RESULT_COLUMNS; `status` is one of placed, ambiguous,
        not_found, no_location.
        """
        r = pd.DataFrame(index=rows.index)
        for col in ("locality", "gmina_teryt", "powiat_teryt"):
            r[col] = rows[col].fillna("").astype(str).str.strip() if col in rows else ""
        r["powiat_eff"] = r["powiat_teryt"].where(r["powiat_teryt"].ne(""), r["gmina_teryt"].str[:4])
        r["key"] = locality_key(r["locality"])
        r["akey"] = r["key"].map(ascii_key)
        out = pd.DataFrame({c: pd.Series("", index=r.index, dtype=object) for c in RESULT_COLUMNS})
        out["lat"] = np.nan
        out["lon"] = np.nan

        has_loc = r["key"].ne("")
        has_gmina = r["gmina_teryt"].ne("")
        self._gmina_points(out, r.index[~has_loc & has_gmina], r, note="")
        only_powiat = ~has_loc & ~has_gmina & r["powiat_teryt"].ne("")
        self._powiat(out, r.index[only_powiat], r.loc[only_powiat, "powiat_teryt"],
                     note="źródło podaje tylko powiat (bez miejscowości i gminy) — przypisano do powiatu, bez punktu")
        nothing = ~has_loc & ~has_gmina & ~only_powiat
        out.loc[nothing, ["status", "reason"]] = ["no_location", "brak miejscowości i gminy w danych"]

        todo = r[has_loc]
        if todo.empty:
            return out
        stats = self._match(todo, "key")
        retry = stats.index[stats["n_any"].eq(0)]
        if len(retry):  # registers typed without Polish letters
            stats.loc[retry] = self._match(todo.loc[retry], "akey")
        self._apply(out, todo, stats)
        return out

    def _match(self, todo: pd.DataFrame, key: str) -> pd.DataFrame:
        left = todo[[key, "gmina_teryt", "powiat_eff"]].rename(columns={key: "k"}).reset_index(names="_rid")
        right = self.localities.rename(columns={"gmina_teryt": "c_gmina", "powiat_teryt": "c_powiat"})
        cand = left.merge(right, left_on="k", right_on=key, how="inner")
        cand["in_area"] = ((cand["gmina_teryt"].eq("") | cand["c_gmina"].eq(cand["gmina_teryt"]))
                           & (cand["powiat_eff"].eq("") | cand["c_powiat"].eq(cand["powiat_eff"])))
        cand["town_in"] = cand["in_area"] & cand["kind"].eq("miasto")
        cand["desc"] = self._describe(cand["name"], cand["kind"], cand["c_gmina"])
        g = cand.groupby("_rid", sort=False)
        stats = pd.DataFrame(index=todo.index)
        stats["n_any"] = g.size().reindex(todo.index, fill_value=0)
        stats["n_in"] = g["in_area"].sum().reindex(todo.index, fill_value=0)
        stats["n_town"] = g["town_in"].sum().reindex(todo.index, fill_value=0)
        stats["all_desc"] = _joined(cand["_rid"], cand["desc"], "; ").reindex(todo.index, fill_value="")
        inside = cand[cand["in_area"]]
        stats["in_desc"] = _joined(inside["_rid"], inside["desc"], "; ").reindex(todo.index, fill_value="")
        stats["in_powiaty"] = (_joined(inside["_rid"], inside["c_powiat"], ";", unique=True)
                               .reindex(todo.index, fill_value=""))
        # The chosen candidate: the only one in the area, or the only town among several.
        n_inside = inside["_rid"].map(inside["_rid"].value_counts())
        towns = cand.loc[cand["town_in"], "_rid"].value_counts()
        n_towns = cand["_rid"].map(towns).fillna(0)
        pick = pd.concat([inside[n_inside.eq(1)], cand[cand["town_in"] & n_towns.eq(1)]])
        pick = pick.drop_duplicates("_rid").set_index("_rid")
        for col in ("lat", "lon", "name", "label", "desc"):
            stats["p_" + col] = pick[col].reindex(todo.index)
        return stats

    def _apply(self, out: pd.DataFrame, todo: pd.DataFrame, s: pd.DataFrame) -> None:
        unique = s["n_in"].eq(1)
        town = s["n_in"].gt(1) & s["n_town"].eq(1)
        placed = unique | town
        idx = s.index[placed]
        out.loc[idx, "status"] = "placed"
        out.loc[idx, "lat"] = s.loc[idx, "p_lat"].astype(float)
        out.loc[idx, "lon"] = s.loc[idx, "p_lon"].astype(float)
        out.loc[idx, "precision"] = "locality"
        out.loc[idx, "geocoder"] = s.loc[idx, "p_label"]
        out.loc[idx, "matched"] = s.loc[idx, "p_desc"]
        t = s.index[town]
        out.loc[t, "geocoder"] = s.loc[t, "p_label"] + " (miasto)"
        out.loc[t, "note"] = ("nazwa miejscowości niejednoznaczna; wybrano jedyne miasto o tej nazwie: "
                              + s.loc[t, "p_desc"] + " (wszyscy kandydaci: " + s.loc[t, "in_desc"] + ")")

        has_gmina = todo["gmina_teryt"].ne("")
        many = s["n_in"].gt(1) & ~town
        none_in = s["n_in"].eq(0) & s["n_any"].gt(0)
        absent = s["n_any"].eq(0)
        loc = todo["locality"]

        # A stated gmina makes gmina-level placement certain even when the locality does not resolve.
        g_many = s.index[many & has_gmina]
        self._gmina_points(out, g_many, todo, note="w podanej gminie kilka miejscowości o nazwie „"
                           + loc[g_many] + "”: " + s.loc[g_many, "in_desc"])
        g_conf = s.index[none_in & has_gmina]
        self._gmina_points(out, g_conf, todo, note="„" + loc[g_conf] + "” nie leży w podanej gminie wg PRNG ("
                           + s.loc[g_conf, "all_desc"] + ") — umieszczono na poziomie gminy")

        one_powiat = s["in_powiaty"].str.fullmatch(r"\d{4}")
        p_amb = s.index[many & ~has_gmina & one_powiat]
        self._powiat(out, p_amb, s.loc[p_amb, "in_powiaty"],
                     note="niejednoznaczna miejscowość „" + loc[p_amb] + "”, ale wszystkie miejscowości o tej nazwie "
                     "leżą w jednym powiecie (" + s.loc[p_amb, "in_desc"] + ") — przypisano do powiatu, bez punktu")
        out.loc[p_amb, "candidates"] = s.loc[p_amb, "in_desc"]
        amb = s.index[many & ~has_gmina & ~one_powiat]
        out.loc[amb, "status"] = "ambiguous"
        out.loc[amb, "candidates"] = s.loc[amb, "in_desc"]
        where = pd.Series(np.where(todo.loc[amb, "powiat_eff"].ne(""), " w podanym powiecie", " w regionie"),
                          index=amb)
        out.loc[amb, "reason"] = ("niejednoznaczna miejscowość „" + loc[amb] + "” (" + s.loc[amb, "n_in"].astype(str)
                                  + " kandydatów" + where + "): " + s.loc[amb, "in_desc"])
        conf = s.index[none_in & ~has_gmina]
        out.loc[conf, "status"] = "not_found"
        out.loc[conf, "candidates"] = s.loc[conf, "all_desc"]
        out.loc[conf, "reason"] = ("„" + loc[conf] + "” nie leży w podanym powiecie wg PRNG; poza nim: "
                                   + s.loc[conf, "all_desc"])

        self._all_absent(out, todo.loc[s.index[absent]])

    def _all_absent(self, out: pd.DataFrame, rows: pd.DataFrame) -> None:
        """Rows whose locality is not in PRNG: a compound name ("Kałków-Godów") row by row (few), the rest
        at once — to the stated gmina's point, else to the stated powiat, else not found."""
        compound = rows["key"].str.contains("-", regex=False)
        for i in rows.index[compound]:
            self._absent(out, rows.loc[i], i)
        rest = rows[~compound]
        name = rest["locality"]
        with_gmina = rest["gmina_teryt"].ne("")
        g = rest.index[with_gmina]
        self._gmina_points(out, g, rest, note="miejscowości „" + name[g] + "” nie ma w PRNG — umieszczono na "
                           "poziomie gminy")
        with_powiat = ~with_gmina & rest["powiat_teryt"].ne("")
        p = rest.index[with_powiat]
        self._powiat(out, p, rest.loc[p, "powiat_teryt"],
                     note="miejscowości „" + name[p] + "” nie ma w PRNG; źródło podaje powiat — przypisano do "
                          "powiatu, bez punktu")
        n = rest.index[~with_gmina & ~with_powiat]
        out.loc[n, "status"] = "not_found"
        out.loc[n, "reason"] = ("brak miejscowości „" + name[n] + "” w gazeterze PRNG regionu (to może być część "
                                "miejscowości lub przysiółek; podaj gminę)")

    def _absent(self, out: pd.DataFrame, row: pd.Series, i) -> None:
        name = row["locality"]
        compound = self._compound_gmina(row)
        if compound:
            teryt, desc = compound
            self._gmina_points(out, pd.Index([i]), pd.DataFrame({"gmina_teryt": [teryt]}, index=[i]),
                               note=f"nazwy „{name}” nie ma w PRNG; jej części leżą w jednej gminie: {desc}")
        elif row["gmina_teryt"]:
            self._gmina_points(out, pd.Index([i]), row.to_frame().T,
                               note=f"miejscowości „{name}” nie ma w PRNG — umieszczono na poziomie gminy")
        elif row["powiat_teryt"]:
            self._powiat(out, pd.Index([i]), pd.Series([row["powiat_teryt"]], index=[i]),
                         note=f"miejscowości „{name}” nie ma w PRNG; źródło podaje powiat — przypisano do "
                              f"powiatu, bez punktu")
        else:
            out.loc[i, ["status", "reason"]] = [
                "not_found", f"brak miejscowości „{name}” w gazeterze PRNG regionu (to może być część "
                             f"miejscowości lub przysiółek; podaj gminę)"]

    def _compound_gmina(self, row: pd.Series) -> tuple[str, str] | None:
        parts = [p for p in row["key"].split("-") if p]
        if len(parts) < 2:
            return None
        sets, descs = [], []
        for part in parts:
            hit = self.localities[self.localities["key"].eq(part)]
            if row["powiat_eff"]:
                hit = hit[hit["powiat_teryt"].eq(row["powiat_eff"])]
            if row["gmina_teryt"]:
                hit = hit[hit["gmina_teryt"].eq(row["gmina_teryt"])]
            if hit.empty:
                return None
            sets.append(set(hit["gmina_teryt"]))
            descs.extend(self._describe(hit["name"], hit["kind"], hit["gmina_teryt"]))
        common = set.intersection(*sets)
        if len(common) != 1:
            return None
        return common.pop(), "; ".join(sorted(descs))

    def _powiat(self, out: pd.DataFrame, idx: pd.Index, codes: pd.Series, note) -> None:
        """Place rows to a powiat only: status placed, precision `powiat`, no coordinates."""
        if len(idx) == 0:
            return
        names = self.powiaty.set_index("teryt")["name"]
        codes = codes.reindex(idx)
        known = codes.isin(names.index)
        ok, bad = idx[known.to_numpy()], idx[~known.to_numpy()]
        out.loc[ok, "status"] = "placed"
        out.loc[ok, "precision"] = "powiat"
        out.loc[ok, "powiat"] = codes.loc[ok]
        out.loc[ok, "geocoder"] = LABEL_POWIAT
        out.loc[ok, "matched"] = "pow. " + codes.loc[ok].map(names) + " " + codes.loc[ok]
        out.loc[ok, "note"] = note.reindex(ok) if isinstance(note, pd.Series) else note
        out.loc[bad, "status"] = "not_found"
        out.loc[bad, "reason"] = "nieznany kod TERYT powiatu " + codes.loc[bad] + " (brak w danych regionu)"

    def _gmina_points(self, out: pd.DataFrame, idx: pd.Index, rows: pd.DataFrame, note) -> None:
        if len(idx) == 0:
            return
        pts = self.gmina_points.set_index("teryt")
        teryt = rows.loc[idx, "gmina_teryt"]
        known = teryt.isin(pts.index)
        ok, bad = idx[known.to_numpy()], idx[~known.to_numpy()]
        codes = teryt.loc[ok]
        out.loc[ok, "status"] = "placed"
        out.loc[ok, "lat"] = pts["lat"].reindex(codes).to_numpy()
        out.loc[ok, "lon"] = pts["lon"].reindex(codes).to_numpy()
        out.loc[ok, "precision"] = "gmina"
        out.loc[ok, "geocoder"] = LABEL_GMINA_POINT
        out.loc[ok, "matched"] = "gm. " + pts["name"].reindex(codes).to_numpy() + " " + codes
        if isinstance(note, pd.Series):
            out.loc[ok, "note"] = note.reindex(ok)
        elif note:
            out.loc[ok, "note"] = note
        out.loc[bad, "status"] = "not_found"
        out.loc[bad, "reason"] = "nieznany kod TERYT gminy " + teryt.loc[bad] + " (brak w danych regionu)"


def _joined(keys: pd.Series, values: pd.Series, sep: str, unique: bool = False) -> pd.Series:
    """The values of each key sorted and joined by `sep` (set-wise with `unique`): a groupby's join, in one
    pass over plain lists (a Python function per group is slow for 100,000 rows)."""
    groups: dict = {}
    for k, v in zip(keys.tolist(), values.tolist()):
        groups.setdefault(k, []).append(v)
    return pd.Series({k: sep.join(sorted(set(v) if unique else v)) for k, v in groups.items()}, dtype=object)
