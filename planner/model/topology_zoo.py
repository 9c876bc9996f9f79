"""Full names of the Internet Topology Zoo networks behind the bundled fibre and PoP layers.

The fibre layer (``us_topology_zoo_backbone_links``) and the PoP layer store each network by its
Topology Zoo file code (``Tw``, ``Kdl``, ``IowaStatewideFiberMap``), which means nothing to a reader.
The names below are the ``Network`` attribute of the same networks' GML files, copied verbatim
(surrounding blanks trimmed; the source's spelling kept, e.g. ``Tecove (level3)`` for ``Telcove``):
github mroughan/InternetTopologyZoo @ a725bbc4763bf1d0eaea64089ba00c2fe9427fe3, gml.tar.gz,
``gml/<code>.gml`` (CC BY 4.0, Knight et al., IEEE JSAC 29(9), 2011) -- the commit the layers were
built from (shared data MANIFEST). One entry per network of those layers (60).
"""
from __future__ import annotations

import re

TOPOLOGY_ZOO_NETWORKS: dict[str, str] = {
    "Abilene": "Abilene", "Agis": "AGIS", "Ans": "ANS", "Atmnet": "ATMnet",
    "AttMpls": "ATT North America", "Bbnplanet": "BBNplanet", "Bellsouth": "Bell South",
    "BeyondTheNetwork": "BTN", "BtNorthAmerica": "BT North America", "Compuserve": "Compuserve",
    "CrlNetworkServices": "CRL", "Cwix": "CWIX", "Darkstrand": "Darkstrand", "Dataxchange": "DataXchange",
    "Deltacom": "ITC Deltacom", "Digex": "DIGEX", "EliBackbone": "Electric Lightwave", "Epoch": "Epoch",
    "Esnet": "ESnet", "Getnet": "GetNet", "Globalcenter": "GlobalCenter", "Goodnet": "GoodNet",
    "Gridnet": "GridNet", "HiberniaUs": "Hibernia Atlantic (US)", "Ibm": "IBM", "Integra": "Integra Telecom",
    "Intellifiber": "Intellifiber", "Internetmci": "InternetMCI", "Intranetwork": "ValleyNet", "Ion": "ION",
    "IowaStatewideFiberMap": "INS IXC Services", "Iris": "IRIS Networks", "Kdl": "Kentucky Datalink",
    "Layer42": "Layer42", "Missouri": "Missouri Network Alliance", "Napnet": "NapNet", "Netrail": "Netrail",
    "NetworkUsa": "Network USA", "Noel": "Noel Communications", "Nsfnet": "NSF", "Ntelos": "NTELOS",
    "Oxford": "Oxford", "Pacificwave": "Pacific-Wave", "Palmetto": "PalmettoNet", "Peer1": "peer1",
    "Psinet": "PsiNet", "Sago": "Sago", "Savvis": "Savvis", "Shentel": "Shentel", "Spiralight": "SpiraLight",
    "Sprint": "Sprint", "Syringa": "Syringa Networks", "Telcove": "Tecove (level3)", "Tw": "TW Telecom",
    "UsCarrier": "US Carrier", "UsSignal": "US Signal", "Uunet": "UUNET", "VisionNet": "Vision Net",
    "Xeex": "Xeex", "Xspedius": "Xspedius",
}

_POP = re.compile(r"^(?P<node>.*) \((?P<code>[^()]+)\)$")


def network_name(code: str) -> str:
    """The network's full name, without its code: ``"Tw"`` -> ``"TW Telecom"``; a value that is
    not a Topology Zoo code (a user layer's own network name) comes back unchanged."""
    return TOPOLOGY_ZOO_NETWORKS.get(code.strip(), code)


def network_text(code: str) -> str:
    """A fibre network as a reader should see it: ``"Tw"`` -> ``"TW Telecom (Topology Zoo code Tw)"``;
    the bare name where it only differs from the code in case (``"AGIS"``); any other value
    unchanged."""
    code = code.strip()
    name = TOPOLOGY_ZOO_NETWORKS.get(code)
    if name is None or name.casefold() == code.casefold():
        return name or code
    return f"{name} (Topology Zoo code {code})"


def pop_text(value: str) -> str:
    """A PoP stored as ``"node (code)"`` (:mod:`planner.gis.proximity`) with the network's full
    name: ``"Wichita Falls (Kdl)"`` -> ``"Wichita Falls (Kentucky Datalink)"``."""
    m = _POP.match(value.strip())
    if m is None or m["code"] not in TOPOLOGY_ZOO_NETWORKS:
        return value
    return f"{m['node']} ({TOPOLOGY_ZOO_NETWORKS[m['code']]})"
