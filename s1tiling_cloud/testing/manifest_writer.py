"""``manifest.safe``: the XFDU envelope of a SAFE product, as ESA writes it for IW GRD.

Same sections, namespaces and identifiers as the real fixtures' manifests: the information
package map, the metadata section (processing provenance with the IPF version, platform,
orbit reference with relative orbit and pass, general product information, acquisition period,
footprint, schema references) and the data object section listing every file with its size and
MD5 checksum. It is a fixed document, so it is written from a template rather than built
element by element; every value is escaped.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .product_geometry import ProductGeometry
from .spec import ProductNames
from .xmlutil import time1

#: NSSDC identifiers of the platforms.
#: COSPAR/NSSDC identifiers of the platforms (S1D's is left empty here: not checked by anything).
NSSDC = {"S1A": "2014-016A", "S1B": "2016-025A", "S1C": "2024-235A", "S1D": ""}

_NAMESPACES = (
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:gml="http://www.opengis.net/gml" '
    'xmlns:xfdu="urn:ccsds:schema:xfdu:1" '
    'xmlns:safe="http://www.esa.int/safe/sentinel-1.0" '
    'xmlns:s1="http://www.esa.int/safe/sentinel-1.0/sentinel-1" '
    'xmlns:s1sar="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar" '
    'xmlns:s1sarl1="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1" '
    'xmlns:s1sarl2="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-2" '
    'xmlns:gx="http://www.google.com/kml/ext/2.2" '
    'version="esa/safe/sentinel-1.0/sentinel-1/sar/level-1/grd/standard/iwdp"'
)

_SCHEMAS = [
    ("s1Level1ProductSchema", "XML Schema", "s1-level-1-product.xsd"),
    ("s1Level1NoiseSchema", "XML Schema", "s1-level-1-noise.xsd"),
    ("s1Level1CalibrationSchema", "XML Schema", "s1-level-1-calibration.xsd"),
    ("s1ObjectTypesSchema", "XML Schema", "s1-object-types.xsd"),
    ("s1Level1MeasurementSchema", "SDF", "s1-level-1-measurement.xsd"),
    ("s1Level1ProductPreviewSchema", "XML Schema", "s1-product-preview.xsd"),
    ("s1Level1QuickLookSchema", "XML Schema", "s1-level-1-quicklook.xsd"),
    ("s1Level1MapOverlaySchema", "XML Schema", "s1-map-overlay.xsd"),
]


@dataclass(frozen=True)
class DataObject:
    """One file of the product as the manifest lists it."""

    id: str
    rep_id: str
    href: str  # relative to the SAFE folder, without "./"
    mime_type: str


def md5_and_size(path: Path) -> tuple[str, int]:
    """MD5 (hex) and size of a file, read in 8 MiB chunks (hashlib releases the GIL)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest(), path.stat().st_size


def data_objects(names: ProductNames) -> list[DataObject]:
    """The product's files in ESA's order: annotations per polarisation, previews,
    measurements, quick-look."""
    pols = sorted(names.spec.polarisations)
    out = []
    for pol in pols:
        stem = names.file_stem(pol).replace("-", "")
        out += [
            DataObject(f"product{stem}", "s1Level1ProductSchema", names.annotation(pol), "text/xml"),
            DataObject(f"noise{stem}", "s1Level1NoiseSchema", names.noise(pol), "text/xml"),
            DataObject(f"calibration{stem}", "s1Level1CalibrationSchema",
                       names.calibration(pol), "text/xml"),
        ]
    out += [
        DataObject("mapoverlay", "s1Level1MapOverlaySchema", "preview/map-overlay.kml", "text/xml"),
        DataObject("productpreview", "s1Level1ProductPreviewSchema",
                   "preview/product-preview.html", "text/xml"),
    ]
    for pol in pols:
        stem = names.file_stem(pol).replace("-", "")
        out.append(DataObject(stem, "s1Level1MeasurementSchema", names.measurement(pol),
                              "application/octet-stream"))
    out.append(DataObject("quicklook", "s1Level1QuickLookSchema", "preview/quick-look.png",
                          "application/octet-stream"))
    return out


def _content_units(objects: list[DataObject], names: ProductNames) -> str:
    units = []
    for o in objects:
        if o.rep_id == "s1Level1MeasurementSchema":
            dmd = " ".join(f"{kind}{o.id}Annotation" for kind in ("product", "noise", "calibration"))
            units.append(
                f'      <xfdu:contentUnit unitType="Measurement Data Unit" repID="{o.rep_id}" '
                f'dmdID="{dmd} ">\n        <dataObjectPointer dataObjectID="{o.id}"/>\n'
                "      </xfdu:contentUnit>"
            )
        else:
            kind = "Measurement Data Unit" if o.id == "quicklook" else "Metadata Unit"
            units.append(
                f'      <xfdu:contentUnit unitType="{kind}" repID="{o.rep_id}">\n'
                f'        <dataObjectPointer dataObjectID="{o.id}"/>\n'
                "      </xfdu:contentUnit>"
            )
    return "\n".join(units)


def _processing(geo: ProductGeometry, names: ProductNames, processing_time: np.datetime64) -> str:
    """The provenance chain: GRD post-processing <- L1 SLC processing <- L0 <- downlink."""
    s = geo.spec

    def at(seconds: float) -> str:
        return time1(processing_time + np.timedelta64(int(seconds * 1e9), "ns"))

    stem = names.product_stem("0000")
    grd, code = f"_GRD{s.resolution_class}_", f"_{s.polarisation_code}_"
    l1 = stem.replace(grd, "_SL1__").replace(code, f"_1_{s.polarisation_code[2:]}_")
    l0 = stem.replace(grd, "_RAW__").replace(code, f"_0S{s.polarisation_code[2:]}_")
    dpa = ('<safe:facility country="Germany" name="Copernicus S1 Core Ground Segment - DPA" '
           'organisation="ESA" site="DLR-Oberpfaffenhofen">')
    software = f'<safe:software name="Sentinel-1 IPF" version={quoteattr(s.ipf_version)}/>'
    raw = (time1(geo.first_line_time - np.timedelta64(30, "s")),
           time1(geo.last_line_time + np.timedelta64(30, "s")))
    lines = [
        (0, f'<safe:processing name="GRD Post Processing" start="{at(0)}" stop="{at(720)}">'),
        (1, dpa), (2, software), (1, "</safe:facility>"),
        (1, f'<safe:resource name="{escape(l1)}.SAFE" role="Level-1 Intermediate SLC Product">'),
        (2, f'<safe:processing name="SLC Processing" start="{at(150)}" stop="{at(450)}">'),
        (3, dpa), (4, software), (3, "</safe:facility>"),
        (3, f'<safe:resource name="{escape(l0)}.SAFE" role="Level-0 Product">'),
        (4, '<safe:processing name="Generation of Sentinel-1 L0 SAR Product" '
            f'start="{at(-900)}" stop="{at(-899)}">'),
        (5, '<safe:facility country="Italy" name="Copernicus S1 Core Ground Segment - MPS" '
            'organisation="ESA" site="e-GEOS-Matera">'),
        (6, '<safe:software name="" version=""/>'), (5, "</safe:facility>"),
        (5, '<safe:resource name="S-1 Core PDGS S-1 Level-0 Product Format Specifications '
            'S1PD.SP.00110.ASTR" role="Applicable Document"/>'),
        (5, '<safe:resource name="Unknown" role="Raw Data">'),
        (6, '<processing xmlns="http://www.esa.int/safe/sentinel-1.0" name="Generation of '
            'Sentinel-1 SAR Slice L0 product single polarisation" '
            f'start="{at(-900)}" stop="{at(-899)}">'),
        (7, '<resource name="Downlinked Stream" role="Raw Data">'),
        (8, f'<processing name="Raw Data Downlink Channel1 1" start="{raw[0]}" stop="{raw[1]}">'),
        (8, "</processing>"), (7, "</resource>"), (6, "</processing>"),
        (5, "</safe:resource>"), (4, "</safe:processing>"), (3, "</safe:resource>"),
        (3, '<safe:resource name="Sentinel-1 Product Definition (S1-RS-MDA-52-7440) release 2/7" '
            'role="product definition"/>'),
        (3, '<safe:resource name="Sentinel-1 Product Specification (S1-RS-MDA-52-7441) release '
            '3/9" role="product specification"/>'),
        (2, "</safe:processing>"), (1, "</safe:resource>"), (0, "</safe:processing>"),
    ]
    return "\n".join(" " * (10 + 2 * depth) + text for depth, text in lines)


def manifest(
    geo: ProductGeometry,
    names: ProductNames,
    objects: list[tuple[DataObject, str, int]],
    processing_time: np.datetime64,
) -> bytes:
    """The manifest text; ``objects`` are (data object, md5, size) of the written files."""
    s = geo.spec
    package = (
        '<xfdu:contentUnit unitType="SAFE Archive Information Package" textInfo="Sentinel-1 IW '
        'Level-1 GRD Product" dmdID="acquisitionPeriod platform generalProductInformation '
        'measurementOrbitReference measurementFrameSet" pdiID="processing">'
    )
    annotations = "\n".join(
        f'    <metadataObject ID="{o.id}Annotation" classification="DESCRIPTION" category="DMD">\n'
        f'      <dataObjectPointer dataObjectID="{o.id}"/>\n    </metadataObject>'
        for o, _, _ in objects
        if o.mime_type == "text/xml"
    )
    schemas = "\n".join(
        f'    <metadataObject ID="{rid}" classification="SYNTAX" category="REP">\n'
        f'      <metadataReference mimeType="text/xml" vocabularyName="{voc}" locatorType="URL" '
        f'href="./support/{href}"/>\n    </metadataObject>'
        for rid, voc, href in _SCHEMAS
    )
    data = "\n".join(
        f'    <dataObject ID="{o.id}" repID="{o.rep_id}">\n'
        f'      <byteStream mimeType="{o.mime_type}" size="{size}">\n'
        f'        <fileLocation locatorType="URL" href="./{escape(o.href)}"/>\n'
        f'        <checksum checksumName="MD5">{md5}</checksum>\n'
        "      </byteStream>\n    </dataObject>"
        for o, md5, size in objects
    )
    footprint = " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in geo.footprint())
    first, last = geo.first_line_time, geo.last_line_time
    model = geo.model
    anx = model.ascending_node_seconds(float(model.seconds(first)))
    anx_time = model.datetimes(anx)
    ms_start = float(model.seconds(first)) - anx
    ms_stop = float(model.seconds(last)) - anx
    pols = sorted(s.polarisations, key=s.image_number)
    pol_lines = "\n".join(
        f"            <s1sarl1:transmitterReceiverPolarisation>{p}</s1sarl1:transmitterReceiverPolarisation>"
        for p in pols
    )
    segment = time1(first - np.timedelta64(int((s.slice_number - 1) * 24.7e9 + 0.9e9), "ns"))
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU {_NAMESPACES}>
  <informationPackageMap>
    {package}
{_content_units([o for o, _, _ in objects], names)}
    </xfdu:contentUnit>
  </informationPackageMap>
  <metadataSection>
{annotations}
    <metadataObject ID="processing" classification="PROVENANCE" category="PDI">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Processing">
        <xmlData>
{_processing(geo, names, processing_time)}
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="platform" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Platform Description">
        <xmlData>
          <safe:platform>
            <safe:nssdcIdentifier>{NSSDC.get(s.platform, "")}</safe:nssdcIdentifier>
            <safe:familyName>SENTINEL-1</safe:familyName>
            <safe:number>{s.unit}</safe:number>
            <safe:instrument>
              <safe:familyName abbreviation="SAR">Synthetic Aperture Radar</safe:familyName>
              <safe:extension>
                <s1sarl1:instrumentMode>
                  <s1sarl1:mode>IW</s1sarl1:mode>
                  <s1sarl1:swath>IW</s1sarl1:swath>
                </s1sarl1:instrumentMode>
              </safe:extension>
            </safe:instrument>
          </safe:platform>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementOrbitReference" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Orbit Reference">
        <xmlData>
          <safe:orbitReference>
            <safe:orbitNumber type="start">{s.absolute_orbit}</safe:orbitNumber>
            <safe:orbitNumber type="stop">{s.absolute_orbit}</safe:orbitNumber>
            <safe:relativeOrbitNumber type="start">{s.relative_orbit}</safe:relativeOrbitNumber>
            <safe:relativeOrbitNumber type="stop">{s.relative_orbit}</safe:relativeOrbitNumber>
            <safe:cycleNumber>{s.cycle_number}</safe:cycleNumber>
            <safe:phaseIdentifier>1</safe:phaseIdentifier>
            <safe:extension>
              <s1:orbitProperties>
                <s1:pass>{s.orbit_direction}</s1:pass>
                <s1:ascendingNodeTime>{time1(anx_time)}</s1:ascendingNodeTime>
              </s1:orbitProperties>
            </safe:extension>
          </safe:orbitReference>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="generalProductInformation" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="General Product Information">
        <xmlData>
          <s1sarl1:standAloneProductInformation>
            <s1sarl1:instrumentConfigurationID>1</s1sarl1:instrumentConfigurationID>
            <s1sarl1:missionDataTakeID>{s.mission_datatake_id}</s1sarl1:missionDataTakeID>
{pol_lines}
            <s1sarl1:productClass>S</s1sarl1:productClass>
            <s1sarl1:productClassDescription>SAR Standard L1 Product</s1sarl1:productClassDescription>
            <s1sarl1:productComposition>Slice</s1sarl1:productComposition>
            <s1sarl1:productType>GRD</s1sarl1:productType>
            <s1sarl1:productTimelinessCategory>{escape(s.timeliness)}</s1sarl1:productTimelinessCategory>
            <s1sarl1:sliceProductFlag>true</s1sarl1:sliceProductFlag>
            <s1sarl1:segmentStartTime>{segment}</s1sarl1:segmentStartTime>
            <s1sarl1:sliceNumber>{s.slice_number}</s1sarl1:sliceNumber>
            <s1sarl1:totalSlices>{s.total_slices}</s1sarl1:totalSlices>
          </s1sarl1:standAloneProductInformation>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="acquisitionPeriod" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Acquisition Period">
        <xmlData>
          <safe:acquisitionPeriod>
            <safe:startTime>{time1(first)}</safe:startTime>
            <safe:stopTime>{time1(last)}</safe:stopTime>
            <safe:extension>
              <s1:timeANX>
                <s1:startTimeANX>{ms_start * 1e3:.6e}</s1:startTimeANX>
                <s1:stopTimeANX>{ms_stop * 1e3:.6e}</s1:stopTimeANX>
              </s1:timeANX>
            </safe:extension>
          </safe:acquisitionPeriod>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementFrameSet" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Frame Set">
        <xmlData>
          <safe:frameSet>
            <safe:frame>
              <safe:footPrint srsName="http://www.opengis.net/gml/srs/epsg.xml#4326">
                <gml:coordinates>{footprint}</gml:coordinates>
              </safe:footPrint>
            </safe:frame>
          </safe:frameSet>
        </xmlData>
      </metadataWrap>
    </metadataObject>
{schemas}
  </metadataSection>
  <dataObjectSection>
{data}
  </dataObjectSection>
</xfdu:XFDU>
"""
    return doc.encode("utf-8")


def checksums(
    safe_dir: Path, objects: list[DataObject], threads: int = 2
) -> list[tuple[DataObject, str, int]]:
    """(object, md5, size) for every listed file, hashing big files in parallel threads."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda o: md5_and_size(safe_dir / o.href), objects))
    return [(o, md5, size) for o, (md5, size) in zip(objects, results, strict=True)]
