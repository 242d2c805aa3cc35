/*
 * chat.h - what clients say to each other: lines and actions, private
 * messages, nicks, /who, joining and leaving.  The handlers take a frame
 * from dispatch.c and return -1 if its payload breaks the protocol.
 */
#ifndef FORKCHAT_CHAT_H
#define FORKCHAT_CHAT_H

#include "msg.h"
#include "spawn.h"

int	 chat_say(struct child *, struct msg *);
int	 chat_privmsg(struct child *, struct msg *);
int	 chat_nick(struct child *, struct msg *);
int	 chat_who(struct child *, struct msg *);
int	 chat_bye(struct child *, struct msg *);
void	 chat_join(struct child *);
void	 chat_end_turn(void);
void	 chat_leave(struct child *, const char *);
void	 chat_left(struct child *, const char *);
struct child *chat_find(const char *);

#endif
