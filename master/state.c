/*
 * state.c - the master's state as a whole (see state.h): one definition,
 * so that any module, and a unit test, links without main.c.
 */
#include "state.h"

struct server server = { .phase = PHASE_RUNNING, .ep = -1 };
