"""The grid worlds' shared mechanics and map checks (`envs.grid`), views (`envs.grid_view`)
and rendering helpers (`envs.render`) on hand-made cases; the worlds' own tests cover them in
play."""

from __future__ import annotations

import numpy as np
import pytest

from envs.grid import (
    DIRS,
    EMPTY_RGB,
    FORWARD,
    SELF_RGB,
    STAY,
    TOKEN_RGB,
    TURN_LEFT,
    TURN_RIGHT,
    WALL_RGB,
    beam_reach,
    check_talk,
    mark_tokens,
    movement_tables,
    resolve_moves,
    spawn,
    speak,
    split_talk,
    valid_map,
)
from envs.grid_view import observe, talk_channels, view_codes
from envs.messages import SILENT
from envs.render import FACING_RGB, check_index, check_scale, draw_agents, grid_frame

RNG = np.random.default_rng


def test_movement_tables_move_relative_to_orientation_and_extra_actions_are_inert():
    move, turn = movement_tables(9)
    assert move.shape == (4, 9, 2) and turn.shape == (4, 9)
    for o in range(4):
        assert move[o, FORWARD].tolist() == DIRS[o].tolist()
        assert turn[turn[o, TURN_LEFT], TURN_RIGHT] == o  # left then right: back to o
        assert not move[o, 7:].any() and turn[o, 7:].tolist() == [o, o]
        assert not move[o, STAY].any() and turn[o, STAY] == o
    with pytest.raises(ValueError, match="num_actions=6"):
        movement_tables(6)


def test_resolve_moves_blocks_swaps_and_lets_a_stayer_keep_its_cell():
    active = np.ones((1, 3), dtype=bool)
    # Agents 0 and 1 try to trade cells 10 and 11; agent 2 stays on 12.
    here = np.array([[10, 11, 12]])
    there = np.array([[11, 10, 12]])
    assert resolve_moves(here, there, active, RNG(0)).tolist() == [[10, 11, 12]]
    there = np.array([[12, 11, 12]])  # agent 0 heads for the cell agent 2 stays on
    assert resolve_moves(here, there, active, RNG(0)).tolist() == [[10, 11, 12]]
    there = np.array([[20, 20, 12]])  # two entrants: exactly one gets in
    cells = resolve_moves(here, there, active, RNG(0))[0].tolist()
    assert sorted(cells[:2]) in ([10, 20], [11, 20]) and len(set(cells)) == 3


def test_spawn_gives_distinct_free_points_and_keeps_the_others():
    spawns = np.array([[1, 1], [1, 2], [1, 3]])  # flat 6, 7, 8 with width 5
    cell = np.array([[7, 0, 0]] * 200)
    placing = np.array([[False, True, True]] * 200)
    on_map = ~placing
    out = spawn(spawns, 5, cell, placing, on_map, RNG(0))
    assert (out[:, 0] == 7).all() and (out[:, 1] != out[:, 2]).all()
    assert set(out[:, 1:].ravel().tolist()) == {6, 8}  # 7 is held


def test_view_codes_put_the_agent_at_the_centre_and_its_front_on_top():
    grid = np.arange(7 * 7, dtype=np.int64).reshape(1, 7, 7)  # a 5 x 5 map padded by 1
    pos = np.array([[[2, 2]]])
    for o in range(4):
        codes = view_codes(grid, pos, np.array([[o]]), 1).reshape(3, 3)
        centre = np.array([3, 3])
        assert codes[1, 1] == grid[0, 3, 3]
        assert codes[0, 1] == grid[0, *(centre + DIRS[o])]  # ahead
        assert codes[1, 2] == grid[0, *(centre + DIRS[(o + 1) % 4])]  # right


def test_beam_reach_stops_each_lane_at_the_first_wall():
    ascii_map = ("@@@@@@@", "@     @", "@  @  @", "@     @", "@@@@@@@")
    W = 7
    flat, reach = beam_reach(ascii_map, np.array([1 * W + 3]), np.array([2]), 3, 3)  # south
    got = {int(c) for c in flat[reach]}
    assert got == {2 * W + 2, 3 * W + 2, 2 * W + 4, 3 * W + 4}  # the centre lane hits a wall


def test_draw_agents_paints_the_tile_and_a_bar_on_the_facing_side():
    frame = np.zeros((16, 16, 3), dtype=np.uint8)
    colours = ((200, 0, 0), (0, 200, 0))
    pos, orient = np.array([[0, 0], [1, 1]]), np.array([1, 2])  # east, south
    draw_agents(frame, pos, orient, colours, 8, show=np.array([True, False]))
    assert frame[0, 0].tolist() == [200, 0, 0] and frame[0, 7].tolist() == list(FACING_RGB)
    assert not frame[8:, 8:].any()  # agent 1 hidden


def test_observe_draws_terrain_layers_agents_and_self_and_blanks_agents_off_the_map():
    ascii_map = ("@@@@@", "@ ~ @", "@   @", "@@@@@")
    red, water, agent_rgb = (200, 0, 0), (9, 9, 9), ((1, 2, 3), (4, 5, 6))
    layer = np.zeros((1, 4, 5), dtype=bool)
    layer[0, 1, 1] = True
    pos = np.array([[[2, 1], [2, 2]]])  # agent 1 is right of agent 0, who faces north
    orient = np.array([[0, 0]])
    args = (ascii_map, 1, pos, orient, [(layer, red)], agent_rgb, (("~", water),))
    view = observe(*args)[0, 0]  # (3, 3, 3)
    assert view.dtype == np.uint8 and view.shape == (3, 3, 3)
    assert view[0].tolist() == [list(WALL_RGB), list(red), list(water)]  # row ahead
    assert view[1].tolist() == [list(WALL_RGB), list(SELF_RGB), list(agent_rgb[1])]
    assert view[2].tolist() == [list(WALL_RGB)] * 3  # behind: the wall
    off = observe(*args, on_map=np.array([[True, False]]))
    assert off[0, 0, 1, 2].tolist() == list(EMPTY_RGB) and not off[0, 1].any()


def test_grid_frame_paints_layers_in_order_then_the_agents():
    under, over = np.zeros((2, 3), dtype=bool), np.zeros((2, 3), dtype=bool)
    under[0, :2] = True
    over[0, 1] = True
    frame = grid_frame(
        (2, 3), [(under, (1, 1, 1)), (over, (2, 2, 2))], np.array([[1, 2]]), [2], [(5, 5, 5)], 2
    )
    assert frame.shape == (4, 6, 3) and frame.dtype == np.uint8
    assert frame[::2, ::2, 0].tolist() == [[1, 2, 0], [0, 0, 5]]


def test_valid_map_turns_lists_into_tuples_and_names_the_world_in_its_errors():
    assert valid_map("w", ["@@@", "@ @", "@@@"], "@ ") == ("@@@", "@ @", "@@@")
    for bad, message in (
        ("@@@", "tuple of strings"),
        (("@@@", "@ @", "@@"), "rectangle of at least 3 x 3"),
        (("@@@", "@x@", "@@@"), r"characters \['x'\]; allowed: '@', ' '"),
        (("@@@", "@  ", "@@@"), "closed by '@'"),
        (("@" * 257,) * 3, "map is 3 x 257 cells; each side must be from 3 to 256"),
        (("@@@",) * 300, "map is 300 x 3 cells; each side must be from 3 to 256"),
    ):
        with pytest.raises(ValueError, match=message) as err:
            valid_map("w", bad, "@ ")
        assert str(err.value).startswith("w: map ") and "\n" not in str(err.value)
    largest = ("@" * 256,) + ("@" + " " * 254 + "@",) * 254 + ("@" * 256,)
    assert valid_map("w", largest, "@ ") == largest


def test_render_argument_checks_are_one_line_errors():
    check_index("w", 1, 2)
    with pytest.raises(ValueError, match=r"^w: render index=2; allowed 0..1$"):
        check_index("w", 2, 2)
    with pytest.raises(ValueError, match=r"^w: render size=8; must be >= 16$"):
        check_scale("w", 8, 16, what="size")


def test_split_talk_undoes_the_flattening_of_moves_and_tokens():
    move, token = np.meshgrid(np.arange(8), np.arange(5), indexing="ij")  # (8, 5)
    got_move, got_token = split_talk(move + 8 * token, 8, 5)
    assert (got_move == move).all() and (got_token == token).all()
    actions = np.arange(8)[None]
    plain, silent = split_talk(actions, 8, 0)  # no channel: the actions are the moves
    assert plain is actions and (silent == SILENT).all()


def test_speak_silences_agents_off_the_map_and_applies_the_channel():
    token, active = np.array([[3, 1, 2]]), np.array([[True, False, True]])
    said, heard = speak(token, active, "open", 4, RNG(0))
    assert said.tolist() == heard.tolist() == [[3, SILENT, 2]]
    said, heard = speak(token, active, "cut", 4, RNG(0))
    assert said.tolist() == [[3, SILENT, 2]] and (heard == SILENT).all()
    many = np.zeros((4000, 2), dtype=np.int64)
    said, heard = speak(many, np.ones_like(many, bool), "scrambled", 4, RNG(0))
    assert (said == 0).all()
    share = np.bincount(heard.ravel(), minlength=4) / heard.size  # uniform, whatever was said
    assert np.abs(share - 0.25).max() < 4 * np.sqrt(0.25 * 0.75 / heard.size)


def test_talk_channels_show_each_heard_token_at_its_speakers_cell_in_view_only():
    # listener 0 at (3, 3) facing north; speaker 1 two cells ahead, speaker 2 out of view
    pos = np.array([[[3, 3], [1, 3], [3, 7]]])
    orient = np.array([[0, 2, 0]])
    heard, on_map = np.array([[2, 1, 0]]), np.ones((1, 3), bool)
    ch = talk_channels((5, 9), 1, pos, orient, heard, 3, on_map)  # (1, 3, 3, 3, 3)
    assert ch.shape == (1, 3, 3, 3, 3) and ch.dtype == np.uint8
    assert not ch[0, 0].any()  # speaker 1 is two cells ahead: outside radius 1
    ch = talk_channels((5, 9), 2, pos, orient, heard, 3, on_map)  # (1, 3, 5, 5, 3)
    assert ch[0, 0, 0, 2].tolist() == [0, 255, 0] and (ch[0, 0] > 0).sum() == 1
    # speaker 1 faces south: the listener is two cells ahead of it, at the top of its view
    assert ch[0, 1, 0, 2].tolist() == [0, 0, 255] and (ch[0, 1] > 0).sum() == 1
    assert not ch[0, 2].any()  # nobody within two cells of agent 2, and never oneself
    silent = talk_channels((5, 9), 2, pos, orient, np.full((1, 3), SILENT), 3, on_map)
    assert not silent.any()
    off = talk_channels((5, 9), 2, pos, orient, heard, 3, np.array([[True, False, True]]))
    assert not off[0, 0].any() and not off[0, 1].any()  # not heard, and hears nothing


def test_mark_tokens_paints_the_centre_of_speakers_tiles_only():
    frame = np.zeros((4 * 6, 4 * 6, 3), dtype=np.uint8)
    pos = np.array([[1, 1], [2, 3], [0, 0]])
    mark_tokens(frame, pos, np.array([2, SILENT, 3]), 6, np.array([True, True, False]))
    assert frame[6 + 2, 6 + 2].tolist() == list(TOKEN_RGB[2])  # 2 x 2 square at the centre
    assert (frame.any(axis=2)).sum() == 4  # the silent and the hidden agent get no mark


def test_talk_settings_are_checked_in_one_line():
    check_talk("commons", 0, "open")
    with pytest.raises(ValueError, match=r"^commons: talk_vocab=65; must be an integer from 0"):
        check_talk("commons", 65, "open")
    with pytest.raises(ValueError, match=r"^commons: channel='loud'; must be one of open"):
        check_talk("commons", 4, "loud")
