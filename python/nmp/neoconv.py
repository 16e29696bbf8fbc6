"""Turning recorded data (nmp.data) into neo objects, with PyNN's
conventions: spike trains and analog signals annotated with the population's
label, the neurons' IDs (source_ids) and their indices within the population
(channel_index). Used by pyNN.nmp's Recorder; a hardware front end built on
pyNN.nmp gets the same conversion.
"""

import numpy as np
import neo
import quantities as pq

# Units of the engine's models that quantities does not define.
if not hasattr(pq, "uS"):
    pq.uS = pq.UnitQuantity("microsiemens", 1e-6 * pq.S, "uS")
if not hasattr(pq, "nS"):
    pq.nS = pq.UnitQuantity("nanosiemens", 1e-9 * pq.S, "nS")


def spike_trains(indices, times, recorded, first_id, t_start, t_stop, label):
    """A neo SpikeTrainList of the neurons `recorded` (indices within the
    population): one train each, with the spikes (indices, times in ms) that
    belong to them. IDs are first_id + index; t_start, t_stop in ms."""
    recorded = np.asarray(recorded, dtype=np.int64)
    mask = np.isin(indices, recorded)
    return neo.spiketrainlist.SpikeTrainList.from_spike_time_array(
        np.asarray(times)[mask], np.asarray(indices)[mask] + first_id, recorded + first_id,
        t_stop=t_stop * pq.ms, units="ms", t_start=t_start * pq.ms, source_population=label)


def analog_signals(pieces, variable, units, recorded, first_id, label):
    """neo AnalogSignals of `variable` for the neurons `recorded` (indices
    within the population): one per nmp.data.Piece that holds any of them."""
    out = []
    recorded = np.asarray(recorded, dtype=np.int64)
    for piece in pieces:
        cols = np.nonzero(np.isin(piece.indices, recorded))[0]
        if not len(cols):
            continue
        channel = piece.indices[cols]
        out.append(neo.AnalogSignal(
            piece.data[:, cols], units=units, t_start=piece.t_start * pq.ms,
            sampling_period=piece.interval * pq.ms, name=variable,
            source_ids=channel + first_id, source_population=label,
            array_annotations={"channel_index": channel}))
    return out
