"""The product annotation (``annotation/s1a-iw-grd-vv-....xml``) of a synthetic IW GRD.

Same elements, order and formats as ESA's (it validates against ESA's
``s1-level-1-product.xsd``). What readers use is computed from the product geometry: orbit,
attitude, timing, slant range time, the geolocation grid, the slant<->ground polynomials, the
azimuth FM rate (from the orbit speed and the range), the antenna elevation angles and incidence
angles. Instrument housekeeping (downlink values, replica, raw data analysis, processing
parameters) holds constants taken from a real IW GRD, per sub-swath.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from ..geo.ellipsoid import A as WGS84_A
from ..geo.ellipsoid import B as WGS84_B
from ..geo.ellipsoid import geodetic_to_ecef
from ..geo.range_doppler import SPEED_OF_LIGHT, incidence_angle, radar_to_ground
from .orbit_model import ROLL_BIAS_DEG, attitude
from .product_geometry import ProductGeometry
from .radiometry import BURST_CYCLE, SUBSWATH_BOUNDS, SUBSWATH_NAMES, Luts
from .xmlutil import E, array, f6, f15, flag, time1, times

#: C-band centre frequency (Hz) and IW GRD range sampling rate (Hz), as annotated by ESA.
RADAR_FREQUENCY = 5.405000454334350e9
RANGE_SAMPLING_RATE = 6.434523812571428e7
AZIMUTH_STEERING_RATE = 1.590368784
WAVELENGTH = SPEED_OF_LIGHT / RADAR_FREQUENCY

#: Per IW sub-swath instrument settings of a real IW acquisition (ESA annotation values).
SWATH_SETTINGS = {
    "IW1": dict(prf=1.717128973878037e3, rank=9, pulse=5.240481033595628e-05,
                start_freq=-2.825153419637256e07, ramp=1.078230321255894e12, number=10,
                filter_bw=5.659e07, fs=6.434523812571429e07, filter_len=36, swl=3.721354299810052e-04,
                rg_window=0.70, rg_total=5.650445548389234e07, rg_proc=5.65e07, rg_look=1.41e07,
                rg_overlap=3.502589347412674e06, az_window=0.70, az_bw=327.0, scaling=1.026920e12,
                input_samples=23802, input_lines=15020),
    "IW2": dict(prf=1.451627112193990e3, rank=8, pulse=6.199592966536363e-05,
                start_freq=-2.415503791125222e07, ramp=7.792817275120481e11, number=11,
                filter_bw=4.835e07, fs=5.459595962181818e07, filter_len=44, swl=4.433494910018548e-04,
                rg_window=0.73, rg_total=4.831229516834e07, rg_proc=4.83e07, rg_look=1.21e07,
                rg_overlap=3.051092780370775e06, az_window=0.75, az_bw=313.0, scaling=8.924007e11,
                input_samples=24072, input_lines=15130),
    "IW3": dict(prf=1.685817302492702e3, rank=10, pulse=5.339056426703426e-05,
                start_freq=-2.139431040091632e07, ramp=8.014509490705804e11, number=12,
                filter_bw=4.286e07, fs=4.69184028e07, filter_len=68, swl=3.995e-04,
                rg_window=0.75, rg_total=4.278991840322842e07, rg_proc=4.278991840322842e07,
                rg_look=1.07e07, rg_overlap=2.678724477655806e06, az_window=0.75, az_bw=314.0,
                scaling=9.732465e11, input_samples=19722, input_lines=15190),
}


@dataclass(frozen=True)
class ImageStatistics:
    """Mean and standard deviation of the DN image (ESA's ``imageStatistics``)."""

    mean: float
    std: float


def _complex(tag: str, re: float, im: float = 0.0) -> ET.Element:
    return E(tag, E("re", f6(re)), E("im", f6(im)))


def ads_header(geo: ProductGeometry, pol: str) -> ET.Element:
    """The ``adsHeader`` shared by annotation, calibration and noise files."""
    s = geo.spec
    return E(
        "adsHeader",
        E("missionId", s.mission_id),
        E("productType", "GRD"),
        E("polarisation", pol),
        E("mode", "IW"),
        E("swath", "IW"),
        E("startTime", time1(geo.first_line_time)),
        E("stopTime", time1(geo.last_line_time)),
        E("absoluteOrbitNumber", s.absolute_orbit),
        E("missionDataTakeId", s.mission_datatake_id),
        E("imageNumber", f"{s.image_number(pol):03d}"),
    )


def _statistics(stats: ImageStatistics) -> ET.Element:
    return E("imageStatistics", _complex("outputDataMean", stats.mean),
             _complex("outputDataStdDev", stats.std))


def _quality(geo: ProductGeometry, stats: ImageStatistics) -> ET.Element:
    dq = [
        ("iInputDataMean", f15(0.3384)), ("qInputDataMean", f15(0.2395)),
        ("inputDataMeanOutsideNominalRangeFlag", "false"),
        ("iInputDataStdDev", f15(8.929)), ("qInputDataStdDev", f15(8.973)),
        ("inputDataStDevOutsideNominalRangeFlag", "false"),
    ]
    for what in ("Downlink", "Instrument", "SsbError"):
        low = what[0].lower() + what[1:]
        dq += [
            (f"num{what}InputDataGaps", "0"), (f"{low}GapsInInputDataSignificantFlag", "false"),
            (f"num{what}InputMissingLines", "0"),
            (f"{low}MissingLinesSignificantFlag", "false"),
        ]
    dq += [
        ("chirpSourceUsed", "Nominal"), ("pgSourceUsed", "Extracted"),
        ("rrfSpectrumUsed", "Extended Tapered"), ("replicaReconstructionFailedFlag", "false"),
        ("meanPgProductAmplitude", f15(0.6263)), ("stdDevPgProductAmplitude", f15(0.0515)),
        ("meanPgProductPhase", f15(2.5717)), ("stdDevPgProductPhase", f15(0.1499)),
        ("pgProductDerivationFailedFlag", "false"), ("invalidDownlinkParamsFlag", "false"),
    ]
    rda = [("iBias", 0.3384), ("iBiasSignificanceFlag", True), ("qBias", 0.2395),
           ("qBiasSignificanceFlag", True), ("iqGainImbalance", 0.99509),
           ("iqGainSignificanceFlag", True), ("iqQuadratureDeparture", -0.0252),
           ("iqQuadratureDepartureSignificanceFlag", True)]
    return E(
        "qualityInformation",
        E("productQualityIndex", f15(0.0)),
        E("qualityDataList", E(
            "qualityData",
            E("azimuthTime", time1(geo.first_line_time)),
            E("downlinkQuality", [E(t, v) for t, v in dq]),
            E("rawDataAnalysisQuality",
              [E(t, flag(v) if isinstance(v, bool) else f15(v)) for t, v in rda]),
            E("dopplerCentroidQuality", E("dcMethod", "Data Analysis"),
              E("dopplerCentroidUncertainFlag", "false")),
            E("imageQuality", _statistics(stats),
              E("outputDataMeanOutsideNominalRangeFlag", "false"),
              E("outputDataStDevOutsideNominalRangeFlag", "false")),
        ), count=1),
    )


def _slant_time_at_incidence(geo: ProductGeometry, inc_deg: float) -> float:
    """Two-way slant range time at an incidence angle, spherical Earth (for instrument values
    of sub-swaths that may lie outside the image)."""
    a, re = geo.radii
    th = math.radians(inc_deg)
    r = math.sqrt(a * a - (re * math.sin(th)) ** 2) - re * math.cos(th)
    return 2.0 * r / SPEED_OF_LIGHT


def _downlink(geo: ProductGeometry) -> ET.Element:
    t0 = geo.first_line_seconds
    last = geo.line_seconds(geo.lines - 1)
    items = []
    for k, name in enumerate(SUBSWATH_NAMES):
        st = SWATH_SETTINGS[name]
        pri = 1.0 / st["prf"]
        near = _slant_time_at_incidence(geo, SUBSWATH_BOUNDS[k])
        swst = near - st["rank"] * pri + 1.437e-05
        errs = ["SyncMarker", "DataTakeId", "EccNumber", "TestMode", "RxChannelId",
                "InstrumentConfigId", "PacketCount", "PriCount", "SsbErrorFlag", "BaqMode",
                "BaqBlockLength", "RangeDecimation", "RxGain", "TxRampRate",
                "TxPulseStartFrequency", "Rank", "Pri", "Swst", "Swl", "Polarisation",
                "TempComp", "ElevationBeamAddress", "AzimuthBeamAddress", "SasTestMode",
                "CalType", "CalibrationBeamAddress", "CalMode", "TxPulseNumber", "SignalType",
                "SwapFlag", "SwathNumber", "NumberOfQuads"]
        az = geo.datetimes(t0 - 2.7 + 0.9 * k)
        items.append(E(
            "downlinkInformation",
            E("swath", name),
            E("azimuthTime", time1(az)),
            E("firstLineSensingTime", time1(geo.datetimes(t0 - 2.0 + 0.8 * k))),
            E("lastLineSensingTime", time1(geo.datetimes(last + 2.0 + 0.8 * k))),
            E("prf", f15(st["prf"])),
            E("bitErrorCount", [E(f"numErr{e}", "0") for e in errs], E("numIspHeaderErrors", "0")),
            E(
                "downlinkValues",
                E("pri", f15(pri)), E("rank", st["rank"]),
                E("dataTakeId", geo.spec.mission_datatake_id & 0xFFFF),
                E("eccNumber", 8), E("rxChannelId", 0), E("instrumentConfigId", 1),
                E("dataFormat", E("baqBlockLength", 256), E("echoFormat", "FDBAQ"),
                  E("noiseFormat", "BAQ 5 Bit"), E("calibrationFormat", "Decimation"),
                  E("meanBitRate", f15(1.205))),
                E("rangeDecimation", E("decimationFilterBandwidth", f15(st["filter_bw"])),
                  E("samplingFrequencyAfterDecimation", f15(st["fs"])),
                  E("filterLength", st["filter_len"])),
                E("rxGain", f15(-4.0)), E("txPulseLength", f15(st["pulse"])),
                E("txPulseStartFrequency", f15(st["start_freq"])),
                E("txPulseRampRate", f15(st["ramp"])), E("swathNumber", st["number"]),
                E("swlList", E("swl", E("azimuthTime", time1(az)), E("value", f15(st["swl"]))),
                  count=1),
                E("swstList", E("swst", E("azimuthTime", time1(az)), E("value", f15(swst))),
                  count=1),
                E("pointingStatusList", E(
                    "pointingStatus", E("azimuthTime", time1(az)),
                    E("aocsOpMode", "Normal Pointing Mode"), E("rollErrorFlag", "false"),
                    E("pitchErrorFlag", "false"), E("yawErrorFlag", "false")), count=1),
            ),
        ))
    return E("downlinkInformationList", items, count=len(items))


def _orbit_list(geo: ProductGeometry) -> ET.Element:
    items = []
    for t, p, v in zip(times(geo.sv_times), geo.sv_positions, geo.sv_velocities, strict=True):
        items.append(E(
            "orbit", E("time", str(t)), E("frame", "Earth Fixed"),
            E("position", E("x", f15(p[0])), E("y", f15(p[1])), E("z", f15(p[2]))),
            E("velocity", E("x", f15(v[0])), E("y", f15(v[1])), E("z", f15(v[2]))),
        ))
    return E("orbitList", items, count=len(items))


def _attitude_list(geo: ProductGeometry) -> ET.Element:
    t0 = geo.first_line_seconds
    t1 = geo.line_seconds(geo.lines - 1)
    s = np.arange(math.floor(t0) - 1.0, t1 + 1.5, 1.0)
    model_s = geo.model.seconds(geo.datetimes(s))
    att = attitude(geo.model, model_s)
    items = []
    for k, t in enumerate(times(geo.datetimes(s))):
        items.append(E(
            "attitude", E("time", str(t)), E("frame", "GM2000"),
            *[E(q, f6(att[q][k])) for q in ("q0", "q1", "q2", "q3")],
            *[E(w, f15(att[w][k])) for w in ("wx", "wy", "wz", "roll", "pitch", "yaw")],
        ))
    return E("attitudeList", items, count=len(items))


def _raw_data_analysis(geo: ProductGeometry) -> ET.Element:
    items = []
    for k, _name in enumerate(SUBSWATH_NAMES):
        ib, qb = 0.3384 + 0.008 * k, 0.2395 + 0.027 * k
        gi, qd = 0.99509 + 0.0035 * k, -0.0252 + 0.0468 * k
        items.append(E(
            "rawDataAnalysis",
            E("azimuthTime", time1(geo.datetimes(geo.first_line_seconds - 2.7 + 0.9 * k))),
            E("iBias", f15(ib)), E("qBias", f15(qb)), E("iqQuadratureDeparture", f15(qd)),
            E("iqGainImbalance", f15(gi)),
            E("support", *[E(t, f15(v)) for t, v in [
                ("iBiasUpperBound", 0.0103), ("iBiasLowerBound", -0.0103),
                ("qBiasUpperBound", 0.0104), ("qBiasLowerBound", -0.0104),
                ("iqGainUpperBound", 1.00116), ("iqGainLowerBound", 0.99884),
                ("iqQuadratureDepartureUpperBound", 0.877),
                ("iqQuadratureDepartureLowerBound", -0.927),
                ("iBiasUsedForCorrection", ib), ("qBiasUsedForCorrection", qb),
                ("iqGainImbalanceUsedForCorrection", gi),
                ("iqQuadratureDepartureUsedForCorrection", qd)]]),
        ))
    return E("rawDataAnalysisList", items, count=len(items))


def _replicas(geo: ProductGeometry) -> ET.Element:
    items = []
    for k, name in enumerate(SUBSWATH_NAMES):
        st = SWATH_SETTINGS[name]
        t = time1(geo.datetimes(geo.first_line_seconds - 1.55 + 0.0 * k))
        replicas = []
        for r in range(2):
            replicas.append(E(
                "replica",
                E("azimuthTime", time1(geo.datetimes(geo.first_line_seconds + 4.0 + 5.5 * r))),
                *[E(tag, f6(v)) for tag, v in [
                    ("crossCorrelationBandwidth", 0.9916), ("crossCorrelationPslr", -12.86),
                    ("crossCorrelationIslr", -9.80), ("crossCorrelationPeakLocation", 0.0)]],
                E("reconstructedReplicaValidFlag", "true"),
                *[E(tag, f6(v)) for tag, v in [
                    ("pgProductAmplitude", 8.83e-4), ("pgProductPhase", 2.5705),
                    ("modelPgProductAmplitude", 0.62155), ("modelPgProductPhase", 0.0)]],
                E("relativePgProductValidFlag", "true"), E("absolutePgProductValidFlag", "true"),
                E("internalTimeDelay", f6(4.319417e-07)),
            ))
        items.append(E(
            "replicaInformation",
            E("swath", name),
            E("referenceReplica",
              E("azimuthTime", t), E("chirpSource", "Nominal"), E("pgSource", "Extracted"),
              array("amplitudeCoefficients", [1.0, 0.0, 0.0, 0.0]),
              array("phaseCoefficients", [0.0, 693.5, st["ramp"] / 2.0, 0.0]),
              E("timeDelay", f6(4.319443e-07)), _complex("gain", 1.0)),
            E("replicaList", replicas, count=len(replicas)),
        ))
    return E("replicaInformationList", items, count=len(items))


def _noise_list(geo: ProductGeometry) -> ET.Element:
    items = []
    for k, name in enumerate(SUBSWATH_NAMES):
        for n in range(2):
            items.append(E(
                "noise", E("swath", name),
                E("azimuthTime", time1(geo.datetimes(geo.first_line_seconds - 3.0 + 3.5 * n + k))),
                E("noisePowerCorrectionFactor", f6(1.0)), E("numberOfNoiseLines", 8),
            ))
    return E("noiseList", items, count=len(items))


def _terrain_heights(geo: ProductGeometry) -> ET.Element:
    t0 = geo.first_line_seconds
    s = np.arange(t0 - 10.0, geo.line_seconds(geo.lines - 1) + 10.0 + 1e-6, 10.0)
    items = [E("terrainHeight", E("azimuthTime", str(t)),
               E("value", f15(geo.spec.terrain_height))) for t in times(geo.datetimes(s))]
    return E("terrainHeightList", items, count=len(items))


def _burst_times(geo: ProductGeometry, offset: float = 0.0) -> np.ndarray:
    """A time per TOPS burst cycle covering the product (s since the orbit epoch)."""
    t0 = geo.first_line_seconds - 1.1 + offset
    return np.arange(t0, geo.line_seconds(geo.lines - 1) + BURST_CYCLE, BURST_CYCLE)


def _fm_rates(geo: ProductGeometry) -> ET.Element:
    """Azimuth FM rate Ka(tau) = -2 V_s V_g / (lambda R), fitted as a quadratic in tau - t0."""
    t0 = geo.slant_range_time - 2.8e-7
    far = geo.slant_range_time + 0.9e-3
    tau = np.linspace(t0, far, 50)
    items = []
    for s in _burst_times(geo):
        _, vel = geo.orbit.interpolate(s)
        vs = float(np.linalg.norm(vel))
        vg = geo.spec.pixel_spacing / geo.azimuth_time_interval
        ka = -2.0 * vs * vg / (WAVELENGTH * tau * SPEED_OF_LIGHT / 2.0)
        coeffs = np.polynomial.polynomial.polyfit(tau - t0, ka, 2)
        items.append(E(
            "azimuthFmRate", E("azimuthTime", time1(geo.datetimes(s))), E("t0", f15(t0)),
            array("azimuthFmRatePolynomial", coeffs, "{:.15e}"),
        ))
    return E("azimuthFmRateList", items, count=len(items))


def _slices(geo: ProductGeometry) -> tuple[ET.Element, np.datetime64]:
    """sliceList of the datatake (slices of the product's length, ~25 s, 2 s overlap...)."""
    s = geo.spec
    length = max(25.0, geo.lines * geo.azimuth_time_interval)
    step = length - 0.3
    first_start = geo.first_line_seconds - (s.slice_number - 1) * step - 0.9
    items = []
    for n in range(1, s.total_slices + 1):
        a = first_start + (n - 1) * step
        items.append(E(
            "slice", E("sliceNumber", n),
            E("sensingStartTime", time1(geo.datetimes(a))),
            E("sensingStopTime", time1(geo.datetimes(a + length + 5.3))),
        ))
    return E("sliceList", items, count=len(items)), geo.datetimes(first_start - 0.8)


def _image_information(geo: ProductGeometry, stats: ImageStatistics) -> ET.Element:
    s = geo.spec
    slices, anchor = _slices(geo)
    anx = geo.model.ascending_node_seconds(float(geo.model.seconds(geo.first_line_time)))
    return E(
        "imageInformation",
        E("productFirstLineUtcTime", time1(geo.first_line_time)),
        E("productLastLineUtcTime", time1(geo.last_line_time)),
        E("ascendingNodeTime", time1(geo.model.datetimes(anx))),
        E("anchorTime", time1(anchor)),
        E("productComposition", "Slice"),
        E("sliceNumber", s.slice_number),
        slices,
        E("slantRangeTime", f15(geo.slant_range_time)),
        E("pixelValue", "Detected"),
        E("outputPixels", "16 bit Unsigned Integer"),
        E("rangePixelSpacing", f6(s.pixel_spacing)),
        E("azimuthPixelSpacing", f6(s.pixel_spacing)),
        E("azimuthTimeInterval", f15(geo.azimuth_time_interval)),
        E("azimuthFrequency", f15(1.0 / geo.azimuth_time_interval)),
        E("numberOfSamples", s.samples),
        E("numberOfLines", s.lines),
        E("zeroDopMinusAcqTime", f15(2.0)),
        E("incidenceAngleMidSwath", f15(geo.center_incidence)),
        _statistics(stats),
    )


def _processing_information(geo: ProductGeometry) -> ET.Element:
    params = []
    for name in SUBSWATH_NAMES:
        st = SWATH_SETTINGS[name]
        params.append(E(
            "swathProcParams", E("swath", name),
            E("rangeProcessing", E("windowType", "Hamming"),
              E("windowCoefficient", f15(st["rg_window"])),
              E("totalBandwidth", f15(st["rg_total"])),
              E("processingBandwidth", f15(st["rg_proc"])),
              E("lookBandwidth", f15(st["rg_look"])), E("numberOfLooks", 5),
              E("lookOverlap", f15(st["rg_overlap"]))),
            E("azimuthProcessing", E("windowType", "Hamming"),
              E("windowCoefficient", f15(st["az_window"])),
              E("totalBandwidth", f15(st["az_bw"])), E("processingBandwidth", f15(st["az_bw"])),
              E("lookBandwidth", f15(st["az_bw"])), E("numberOfLooks", 1),
              E("lookOverlap", f15(0.0))),
            E("processorScalingFactor", f6(st["scaling"])),
        ))
    dims = [
        E("inputDimensions",
          E("azimuthTime", time1(geo.datetimes(geo.first_line_seconds - 1.55 + 0.9 * k))),
          E("swath", name),
          E("numberOfInputSamples", SWATH_SETTINGS[name]["input_samples"]),
          E("numberOfInputLines", SWATH_SETTINGS[name]["input_lines"]))
        for k, name in enumerate(SUBSWATH_NAMES)
    ]
    flags = [("rawDataAnalysisUsed", True), ("orbitDataFileUsed", True),
             ("attitudeDataFileUsed", False), ("rxVariationCorrectionApplied", True),
             ("antennaElevationPatternApplied", True), ("antennaAzimuthPatternApplied", True),
             ("antennaAzimuthElementPatternApplied", True)]
    return E(
        "processingInformation",
        *[E(t, flag(v)) for t, v in flags],
        E("dcMethod", "Data Analysis"),
        E("dcInputData", "Range Compressed"),
        E("rangeSpreadingLossCompensationApplied", "true"),
        E("srgrConversionApplied", "true"),
        E("detectionPerformed", "true"),
        E("thermalNoiseCorrectionPerformed", "false"),
        E("rfiMitigationPerformed", "Never"),
        E("rfiMitigationDomain", "TimeAndFrequency"),
        E("chirpSource", "Nominal"),
        E("pgSource", "Extracted"),
        E("rrfSpectrum", "Extended Tapered"),
        E("applicationLutId", "IW_Default"),
        E("swathProcParamsList", params, count=len(params)),
        E("inputDimensionsList", dims, count=len(dims)),
        E("referenceRange", f15(8.0e5)),
        E("ellipsoidName", "WGS84"),
        E("ellipsoidSemiMajorAxis", f15(WGS84_A)),
        E("ellipsoidSemiMinorAxis", f15(WGS84_B)),
        E("bistaticDelayCorrectionApplied", "true"),
        E("topsFilterConvention", "Only Echo Lines"),
        E("orbitSource", "Auxiliary"),
        E("attitudeSource", "Downlink"),
    )


def _doppler_centroid(geo: ProductGeometry) -> ET.Element:
    """Near-zero Doppler centroids (zero-Doppler steered TOPS), one per burst and sub-swath."""
    items = []
    for s in _burst_times(geo, 2.5):
        for k, _name in enumerate(SUBSWATH_NAMES):
            t0 = _slant_time_at_incidence(geo, SUBSWATH_BOUNDS[k])
            fine = [E("fineDce", E("slantRangeTime", f15(t0 + 3.3e-4 + 2.25e-5 * n)),
                      E("frequency", f15(3.0 * math.sin(1.3 * n + k)))) for n in range(10)]
            items.append(E(
                "dcEstimate",
                E("azimuthTime", time1(geo.datetimes(s + 0.001 * k))),
                E("t0", f15(t0)),
                array("geometryDcPolynomial", [1.32, 115.8, -50642.0]),
                array("dataDcPolynomial", [2.4 + k, -601.3, 4.1e5]),
                E("dataDcRmsError", f15(5.47)),
                E("dataDcRmsErrorAboveThreshold", "false"),
                E("fineDceAzimuthStartTime", time1(geo.datetimes(s - 1.39))),
                E("fineDceAzimuthStopTime", time1(geo.datetimes(s + 1.39))),
                E("fineDceList", fine, count=len(fine)),
            ))
    return E("dopplerCentroid", E("dcEstimateList", items, count=len(items)))


def _antenna_pattern(geo: ProductGeometry) -> ET.Element:
    """Elevation antenna pattern per burst and sub-swath, on the product's geometry."""
    h = geo.spec.terrain_height
    records = [(s + 0.94 * k, k) for s in _burst_times(geo, 0.07) for k in range(3)]
    t = np.array([r[0] for r in records])
    tau = np.stack([
        np.linspace(_slant_time_at_incidence(geo, SUBSWATH_BOUNDS[k] - 0.6),
                    _slant_time_at_incidence(geo, SUBSWATH_BOUNDS[k + 1] + 0.6), 64)
        for _, k in records
    ])
    tt = np.broadcast_to(t[:, None], tau.shape)
    rng = tau * SPEED_OF_LIGHT / 2.0
    lat, lon = radar_to_ground(geo.orbit, tt, rng, h)
    xyz = geodetic_to_ecef(lat, lon, h)
    inc = incidence_angle(geo.orbit, xyz, tt, reference="geocentric")
    sat, _ = geo.orbit.interpolate(tt)
    los = xyz - sat
    cos_el = -np.sum(los * sat, -1) / (np.linalg.norm(los, axis=-1) * np.linalg.norm(sat, axis=-1))
    elev = np.degrees(np.arccos(cos_el))
    items = []
    for n, (tn, k) in enumerate(records):
        e = elev[n]
        gain = np.sinc((e - e.mean()) / (e.max() - e.min()) * 2.2) ** 2 * 1.0e14
        pattern = np.stack([gain, np.zeros_like(gain)], axis=-1)
        items.append(E(
            "antennaPattern", E("swath", SUBSWATH_NAMES[k]),
            E("azimuthTime", time1(geo.datetimes(tn))),
            array("slantRangeTime", tau[n], "{:.15e}"), array("elevationAngle", e),
            E("elevationPattern", " ".join(f"{v:.6e}" for v in pattern.ravel()),
              count=len(gain)),
            array("incidenceAngle", inc[n]), E("terrainHeight", f15(h)),
            E("roll", f15(ROLL_BIAS_DEG + 0.6)),
        ))
    return E("antennaPattern", E("antennaPatternList", items, count=len(items)))


def _geolocation_grid(geo: ProductGeometry) -> ET.Element:
    g = geo.grid
    az = times(geo.datetimes(g.seconds))
    srt = 2.0 * g.slant_range / SPEED_OF_LIGHT
    items = []
    for i in range(len(g.lines)):
        for j in range(len(g.pixels)):
            items.append(E(
                "geolocationGridPoint",
                E("azimuthTime", str(az[i, j])), E("slantRangeTime", f15(srt[i, j])),
                E("line", int(g.lines[i])), E("pixel", int(g.pixels[j])),
                E("latitude", f15(g.latitude[i, j])), E("longitude", f15(g.longitude[i, j])),
                E("height", f15(g.height[i, j])), E("incidenceAngle", f15(g.incidence[i, j])),
                E("elevationAngle", f15(g.elevation[i, j])),
            ))
    return E("geolocationGrid", E("geolocationGridPointList", items, count=len(items)))


def _coordinate_conversion(geo: ProductGeometry) -> ET.Element:
    c = geo.conversion
    items = []
    for k, t in enumerate(times(geo.datetimes(c.seconds))):
        items.append(E(
            "coordinateConversion", E("azimuthTime", str(t)),
            E("slantRangeTime", f15(2.0 * c.sr0[k] / SPEED_OF_LIGHT)), E("sr0", f15(c.sr0[k])),
            array("srgrCoefficients", c.srgr[k], "{:.15e}"), E("gr0", f15(0.0)),
            array("grsrCoefficients", c.grsr[k], "{:.15e}"),
        ))
    return E("coordinateConversion", E("coordinateConversionList", items, count=len(items)))


def _swath_merging(geo: ProductGeometry, luts: Luts) -> ET.Element:
    items = []
    for sw in luts.subswaths:
        items.append(E(
            "swathMerge", E("swath", sw.name),
            E("swathBoundsList", E(
                "swathBounds", E("azimuthTime", time1(geo.first_line_time)),
                E("firstAzimuthLine", sw.first_line), E("firstRangeSample", sw.first_sample),
                E("lastAzimuthLine", sw.last_line), E("lastRangeSample", sw.last_sample),
            ), count=1),
        ))
    return E("swathMerging", E("swathMergeList", items, count=len(items)))


def annotation(geo: ProductGeometry, luts: Luts, pol: str, stats: ImageStatistics) -> ET.Element:
    """The whole ``<product>`` document of one polarisation."""
    s = geo.spec
    return E(
        "product",
        ads_header(geo, pol),
        _quality(geo, stats),
        E(
            "generalAnnotation",
            E("productInformation",
              E("pass", s.orbit_direction.capitalize()),
              E("timelinessCategory", s.timeliness),
              E("platformHeading", f15(geo.platform_heading)),
              E("projection", "Ground Range"),
              E("rangeSamplingRate", f15(RANGE_SAMPLING_RATE)),
              E("radarFrequency", f15(RADAR_FREQUENCY)),
              E("azimuthSteeringRate", f15(AZIMUTH_STEERING_RATE))),
            _downlink(geo),
            _orbit_list(geo),
            _attitude_list(geo),
            _raw_data_analysis(geo),
            _replicas(geo),
            _noise_list(geo),
            _terrain_heights(geo),
            _fm_rates(geo),
        ),
        E("imageAnnotation", _image_information(geo, stats), _processing_information(geo)),
        _doppler_centroid(geo),
        _antenna_pattern(geo),
        E("swathTiming", E("linesPerBurst", 0), E("samplesPerBurst", 0),
          E("burstList", count=0)),
        _geolocation_grid(geo),
        _coordinate_conversion(geo),
        _swath_merging(geo, luts),
    )
