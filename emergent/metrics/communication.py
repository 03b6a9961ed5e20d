"""Communication metrics of referential games, from episode logs.

Episode logs are rewards (B, T, A) and events {name: (B, T, A)}, one episode per row, as the
`signalling` environment writes them (see `envs/signalling/__init__.py`): speakers log
"token" (token + 1 while speaking, else 0) and "attr_0" .. "attr_{n-1}" (the target's
attribute values + 1 at the last step); both players of a pair log "success".
`messages_and_meanings` turns a log into N = (games) rows of meanings (N, n_attributes) and
messages (N, L), on which the other functions work.

Entropies and mutual information are plug-in estimates from empirical frequencies, in bits
(as are `emergent.metrics.influence`'s); they are biased (MI upwards) when the N games are few
compared with the distinct meanings and messages.

Messages follow `envs.messages`: tokens in [0, V), 0 the end token (EOS) where a world uses
one, SILENT = -1 where nothing was said (the padding of `messages_and_meanings`, a speaker that
never spoke). Entropy, mutual information and posdis count SILENT as one more symbol (a
silent speaker sends one message, "nothing"); bosdis counts no symbol for it; topographic
similarity drops it (a message is the tokens that were said). The ablation every claim needs
(Lowe et al. 2019) cuts or scrambles what the listener hears (`envs.messages.heard`), never
what the speaker said, so these metrics of the speaker's language are unchanged by it; compare
`success_rate` (and `emergent.metrics.influence`) between channels instead.

References:
    Shannon 1948, "A mathematical theory of communication". Brighton and Kirby 2006,
    "Understanding linguistic evolution by visualizing the emergence of topographic mappings"
    (Artificial Life). Lazaridou et al. 2018, "Emergence of linguistic communication from
    referential games with symbolic and pixel input" (ICLR). Lowe et al. 2019, "On the
    pitfalls of measuring emergent communication" (AAMAS). Kharitonov et al. 2019, EGG
    (`egg/core/language_analysis.py`: TopographicSimilarity, Disent). Chaabouni et al. 2020,
    "Compositionality and generalization in emergent languages" (ACL).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from envs.messages import SILENT, message_lengths


def success_rate(events: dict[str, np.ndarray]) -> float:
    """Share of games the listener won.

    success = (1 / (B A)) sum_b sum_a sum_t success[b, t, a]

    Both players of a pair log the same success once per game, so averaging over all
    agents equals averaging over games.

    Args:
        events: with "success" (B, T, A), one game per pair per episode.
    """
    return float(np.asarray(events["success"]).sum(axis=1).mean())


def messages_and_meanings(events: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The meaning and the message of every game in a log.

    A speaker is an (episode, agent) whose "attr_0" is nonzero at some step; its message is
    its nonzero "token" entries minus 1, in time order, and its meaning the nonzero "attr_i"
    entries minus 1.

    Args:
        events: with "token" and "attr_0" .. "attr_{n-1}", each (B, T, A).
    Returns:
        meanings (N, n_attributes) int64 and messages (N, L) int64, N games in (episode,
        agent) order; a message shorter than the longest is padded with -1.
    """
    n_attributes = sum(1 for name in events if name.startswith("attr_"))
    missing = [k for k in ("token", "attr_0") if k not in events]
    if missing:
        raise ValueError(f"communication metrics need events {missing}; got {sorted(events)}")
    attrs = np.stack([events[f"attr_{i}"] for i in range(n_attributes)], axis=-1)  # (B,T,A,n)
    meaning = attrs.sum(axis=1)  # (B, A, n): one nonzero entry per speaker and game
    speaker = meaning[..., 0] > 0  # (B, A)
    tokens = np.moveaxis(np.asarray(events["token"]), 1, 2)[speaker]  # (N, T)
    spoken = tokens > 0
    order = np.argsort(~spoken, axis=1, kind="stable")  # spoken steps first, in time order
    length = int(spoken.sum(axis=1).max(initial=0))
    messages = np.take_along_axis(tokens, order, axis=1)[:, :length].astype(np.int64) - 1
    return meaning[speaker].astype(np.int64) - 1, messages


def message_entropy(messages: np.ndarray) -> float:
    """Entropy of the distribution of whole messages, in bits.

    H(M) = - sum_m p(m) log2 p(m),  p(m) = the share of games in which message m was sent.

    SILENT (-1) counts as a symbol, so speakers that never spoke send one message. 0 for a
    constant language (and for no games); log2 N at most.

    Args:
        messages: (N, L), one row per game.
    """
    return _entropy(_rows(messages))


def mutual_information(meanings: np.ndarray, messages: np.ndarray) -> float:
    """Mutual information between meanings S and messages M, in bits.

    I(S; M) = H(S) + H(M) - H(S, M), entropies of the empirical distributions (Shannon 1948).
    0 when the message ignores the meaning and for a constant language; H(S) (log2 #meanings
    for uniform meanings) when every meaning gets its own message. Clipped at 0 against
    rounding.

    Args:
        meanings: (N, n_attributes); messages: (N, L), row i belonging to game i.
    """
    s, m = _rows(meanings), _rows(messages)
    if len(s) != len(m):
        raise ValueError(f"mutual_information: {len(s)} meanings but {len(m)} messages")
    joint = np.concatenate([s, m], axis=1)
    return max(0.0, _entropy(s) + _entropy(m) - _entropy(joint))


def positive_signalling(meanings: np.ndarray, messages: np.ndarray) -> float:
    """Positive signalling: how much a speaker's messages say about what it observes (Lowe et
    al. 2019), as the mutual information between observation and message, in bits.

    PS = I(S; M) = H(S) + H(M) - H(S, M)   (plug-in, see `mutual_information`)

    S is the speaker's observation; in a referential game, the target it sees (its meaning).
    Lowe et al.'s speaker consistency uses the speaker's own action in place of S. 0 for a
    constant language or messages independent of S; H(S) when every observation gets its own
    message. The plug-in estimate of independent S and M is not 0 but about
    (|S| - 1)(|M| - 1) / (2 N ln 2) bits (Miller 1955), so compare with random play's value.
    Positive signalling does not imply positive listening (the listener may ignore the
    messages): see `emergent.metrics.influence.causal_influence_of_communication`.

    Args:
        meanings: (N, n_attributes), the speaker's observation in each game; messages: (N, L).
    """
    return mutual_information(meanings, messages)


def edit_distances(
    a: np.ndarray,
    b: np.ndarray,
    a_lengths: np.ndarray | None = None,
    b_lengths: np.ndarray | None = None,
) -> np.ndarray:
    """Levenshtein distance between rows a[i] and b[i] (insertions, deletions, substitutions).

    d[i, j] = min(d[i-1, j] + 1, d[i, j-1] + 1, d[i-1, j-1] + [a_i != b_j]), over a DP table
    filled row by row for all P pairs at once; within a row the recursion on d[i, j-1] is a
    running minimum, d[i, j] = j + min_{k <= j} (x_k - k), x_k the other two options.

    Args:
        a: (P, La); b: (P, Lb).
        a_lengths, b_lengths: (P,) optional; compare only the first a_lengths[i] tokens of
            a[i] with the first b_lengths[i] of b[i] (ragged sequences stored left-aligned,
            d[a_lengths[i], b_lengths[i]] of the same table). Default: whole rows.
    Returns:
        (P,) int64.
    """
    a, b = np.asarray(a), np.asarray(b)
    P, La, Lb = len(a), a.shape[1], b.shape[1]
    len_a = np.full(P, La) if a_lengths is None else np.asarray(a_lengths, dtype=np.int64)
    len_b = np.full(P, Lb) if b_lengths is None else np.asarray(b_lengths, dtype=np.int64)
    if P and (len_a.min() < 0 or len_a.max() > La or len_b.min() < 0 or len_b.max() > Lb):
        raise ValueError(f"edit_distances: lengths must lie in [0, {La}] and [0, {Lb}]")
    j = np.arange(Lb + 1)
    prev = np.broadcast_to(j, (P, Lb + 1))  # d[0, j] = j
    out = np.where(len_a == 0, len_b, 0).astype(np.int64)  # (P,)
    for i in range(1, La + 1):
        cost = (a[:, i - 1 : i] != b).astype(np.int64)  # (P, Lb)
        x = np.empty((P, Lb + 1), dtype=np.int64)
        x[:, 0] = i
        x[:, 1:] = np.minimum(prev[:, 1:] + 1, prev[:, :-1] + cost)
        prev = j + np.minimum.accumulate(x - j, axis=1)
        done = np.flatnonzero(len_a == i)
        out[done] = prev[done, len_b[done]]
    return out


def topographic_similarity(
    meanings: np.ndarray, messages: np.ndarray, max_items: int = 1000
) -> float:
    """Topographic similarity: how well distances between messages follow distances between
    meanings (Brighton and Kirby 2006; Lazaridou et al. 2018), as EGG computes it.

    topsim = Spearman rho( { hamming(s_i, s_j) }_{i<j},
                           { levenshtein(m_i, m_j) / ((|m_i| + |m_j|) / 2) }_{i<j} )

    EGG's `TopographicSimilarity.compute_topsim` with its defaults: the meaning distance is
    the fraction of attributes that differ (scipy's `hamming`; EGG applies it to the flattened
    one-hot input, whose distance is proportional to this one, so the ranks are the same);
    the message distance is the edit distance divided by the mean length of the two
    messages; Spearman's rho with average ranks for ties, over all pairs i < j of the first
    `max_items` games (the cost is quadratic; episodes are independent, so the first ones are
    a fair sample; with N <= max_items this is EGG's value).

    A message is its tokens other than SILENT (-1), in order, and |m| their number
    (`envs.messages.message_lengths` without end token). The end token and the EOS padding
    after it are kept and counted, as EGG does (it compares whole (L,) rows, EOS included),
    so messages of one world all have length L and the normalisation is one constant factor;
    it changes the value only for messages of different lengths (SILENT padding). Two empty
    messages are at distance 0 and an empty one is at distance 2 from any other.

    Degenerate cases return NaN, as scipy's `spearmanr` does for constant input: a constant
    language (every message the same, including all SILENT, a speaker that never spoke),
    constant meanings, fewer than two games. 1 for a code that spells each attribute at its
    own position; near 0 for an arbitrary one.

    Args:
        meanings: (N, n_attributes); messages: (N, L), SILENT where nothing was said.
    Returns:
        rho in [-1, 1], or NaN.
    """
    s, m = _rows(meanings)[:max_items], _rows(messages)[:max_items]
    if len(s) != len(m):
        raise ValueError(f"topographic_similarity: {len(s)} meanings but {len(m)} messages")
    lengths = message_lengths(m, end_token=False)  # (N,) tokens said
    said_first = np.argsort(m == SILENT, axis=1, kind="stable")
    m = np.take_along_axis(m, said_first, axis=1)  # (N, L) said tokens left-aligned
    i, j = np.triu_indices(len(s), k=1)
    meaning_distance = (s[i] != s[j]).mean(axis=1)
    edits = edit_distances(m[i], m[j], lengths[i], lengths[j])
    mean_length = (lengths[i] + lengths[j]) / 2
    message_distance = np.divide(
        edits, mean_length, out=np.zeros(len(edits)), where=mean_length > 0
    )
    return _spearman(meaning_distance, message_distance)


def positional_disentanglement(meanings: np.ndarray, messages: np.ndarray) -> float:
    """Positional disentanglement, posdis (Chaabouni et al. 2020, sec. 3): how much each
    message position speaks of one attribute only.

    posdis = (1 / |J|) sum_{j in J} (I(m_j; a_(1)) - I(m_j; a_(2))) / H(m_j)

    m_j the symbol at position j, a_(1) and a_(2) the attributes with the largest and second
    largest mutual information with it, J the positions whose symbol is not constant
    (H(m_j) > 0; a constant position says nothing and is skipped, as in EGG's
    `gap_mi_first_second`, `egg/core/language_analysis.py`). Entropies and informations in
    bits (the ratio does not depend on the base). 1 for a code that writes each attribute at
    its own position; near 0 for a holistic one; NaN for a constant language (no position
    varies; EGG's 0 / 0). The end token and SILENT padding (-1) count as symbols of their
    position, as EGG counts its EOS padding.

    Args:
        meanings: (N, n_attributes), at least two attributes; messages: (N, L).
    """
    s, m = _paired(meanings, messages, "positional_disentanglement")
    return _information_gap(s, m)


def bag_of_symbols_disentanglement(
    meanings: np.ndarray, messages: np.ndarray, vocab_size: int
) -> float:
    """Bag-of-symbols disentanglement, bosdis (Chaabouni et al. 2020, sec. 3): posdis over the
    counts of each symbol in a message instead of the symbol at each position, for codes that
    say an attribute by how often a symbol occurs, wherever it stands.

    bosdis = (1 / |S|) sum_{s in S} (I(n_s; a_(1)) - I(n_s; a_(2))) / H(n_s)

    n_s the number of times symbol s occurs in the message, S the symbols 1..vocab_size - 1
    whose count is not constant. Symbol 0 is left out, as EGG's `Disent.bosdis` does (its end
    of message, `histogram[:, 1:]`); SILENT (-1) is no symbol. NaN for a constant language
    (and for one that uses only symbol 0).

    Args:
        meanings: (N, n_attributes), at least two attributes; messages: (N, L) with symbols
            in 0..vocab_size - 1 (and -1 for padding).
    """
    s, m = _paired(meanings, messages, "bag_of_symbols_disentanglement")
    if m.size and m.max() >= vocab_size:
        raise ValueError(f"bosdis: symbol {m.max()} is outside the vocabulary of {vocab_size}")
    counts = (m[:, :, None] == np.arange(1, vocab_size)).sum(axis=1)  # (N, V - 1)
    return _information_gap(s, counts)


def communication_summary(rewards: np.ndarray, events: dict[str, np.ndarray]) -> dict[str, float]:
    """The communication metrics of a batch of signalling episodes.

    "mutual_information" is I(target; message), the speaker's positive signalling
    (`positive_signalling`, the same value, not repeated under a second key). "posdis" and
    "bosdis" are NaN for fewer than two attributes (no gap between the best two) or a
    constant language; bosdis takes the vocabulary as 0 .. the largest symbol sent, which
    gives the value of the true vocabulary (a symbol never sent has a constant count of 0 and
    is skipped).

    Args:
        rewards: (B, T, A); its mean episode return per player is "reward_per_game".
        events: (B, T, A) each, with "success", "token" and "attr_*" (see the module doc).
    Returns:
        {"success_rate", "reward_per_game", "message_entropy", "mutual_information",
        "topographic_similarity", "posdis", "bosdis"}, entropies in bits.
    """
    meanings, messages = messages_and_meanings(events)
    structured = meanings.shape[1] >= 2 and messages.size > 0
    vocab_size = int(messages.max(initial=-1)) + 1
    return {
        "success_rate": success_rate(events),
        "reward_per_game": float(np.asarray(rewards, dtype=np.float64).sum(axis=1).mean()),
        "message_entropy": message_entropy(messages),
        "mutual_information": mutual_information(meanings, messages),
        "topographic_similarity": topographic_similarity(meanings, messages),
        "posdis": positional_disentanglement(meanings, messages) if structured else np.nan,
        "bosdis": (
            bag_of_symbols_disentanglement(meanings, messages, max(vocab_size, 1))
            if structured
            else np.nan
        ),
    }


def _entropy(rows: np.ndarray) -> float:
    """Plug-in entropy in bits of the empirical distribution of the rows of (N, D)."""
    if len(rows) == 0:
        return 0.0
    _, counts = np.unique(rows, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float((p * np.log2(1 / p)).sum())  # not -0.0 for a constant


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson correlation of ranks (ties get average ranks); NaN if constant."""
    if len(x) < 2:
        return float("nan")
    rx, ry = rankdata(x) - (len(x) + 1) / 2, rankdata(y) - (len(y) + 1) / 2
    norm = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / norm) if norm > 0 else float("nan")


def _rows(x: np.ndarray) -> np.ndarray:
    """x as (N, D): one column for (N,), the trailing axes flattened for more (empty allowed)."""
    x = np.asarray(x)
    return x[:, None] if x.ndim == 1 else x.reshape(len(x), int(np.prod(x.shape[1:])))


def _paired(meanings: np.ndarray, messages: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    s, m = _rows(meanings), _rows(messages)
    if len(s) != len(m):
        raise ValueError(f"{name}: {len(s)} meanings but {len(m)} messages")
    if s.shape[1] < 2:
        raise ValueError(f"{name}: needs at least two attributes (a gap between the best two)")
    return s, m


def _information_gap(meanings: np.ndarray, representation: np.ndarray) -> float:
    """Mean over the non-constant columns r of representation of (I(r; best attribute) -
    I(r; second best)) / H(r); NaN when every column is constant."""
    gaps = []
    for r in representation.T:
        h = _entropy(r[:, None])
        if h > 0:
            info = sorted((mutual_information(a, r) for a in meanings.T), reverse=True)
            gaps.append((info[0] - info[1]) / h)
    return float(np.mean(gaps)) if gaps else float("nan")
