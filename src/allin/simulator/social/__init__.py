"""Local simulators of X, LinkedIn and Meta (Facebook Pages and Instagram), held to the public
API contracts of those platforms, for tests and demo mode.

Each platform has one app factory and one state object (`app.state.sim`):

- `x.create_x_simulator(XConfig)`: x.com/i/oauth2/authorize (and /2/oauth2/authorize),
  /2/oauth2/token, /2/oauth2/revoke, /2/users/me, /2/users/:id/tweets, /2/tweets,
  /2/tweets/:id, /2/media/upload (one shot, STATUS), /2/media/upload/initialize, /:id/append,
  /:id/finalize.
- `linkedin.create_linkedin_simulator(LinkedInConfig)`: /oauth/v2/authorization,
  /oauth/v2/accessToken, /oauth/v2/introspectToken, /oauth/v2/revoke, /v2/userinfo, /v2/me,
  /rest/posts, /rest/posts/{urn}, /rest/images, /rest/videos and their upload URLs.
- `meta.create_meta_simulator(MetaConfig)`: /{version}/dialog/oauth,
  /{version}/oauth/access_token, /debug_token, /me, /me/accounts, /me/permissions,
  /{page-id}/feed|posts|published_posts|scheduled_posts|photos|videos, /{ig-user-id}/media,
  /media_publish, /content_publishing_limit, /stories, GET/DELETE /{object-id}, and the
  resumable upload URI /ig-api-upload/{version}/{container-id}.

Steering, in process (through the state) or over HTTP (`/_simulator/...`, see `control`):

- Consent approves at once and redirects back with `code` and `state`. To refuse, set
  `deny_consent` (config, state, or POST /_simulator/consent) or add `sim_decision=deny` to
  the authorize URL; `sim_user=<id or handle>` signs in as another configured account.
- Time: every config takes a `clock`; pass a `common.ManualClock` and `advance()` it (or POST
  /_simulator/clock) to expire codes, tokens, media and containers without sleeping.
- Faults: `state.faults.inject(endpoint, kind, times=, status=, delay=)` with kind `error`
  (5xx, nothing done), `slow` (wait, then behave), `rate_limit` and `usage_cap` (the
  platform's throttling answer and headers), `lost_response` (the post is recorded, the answer
  is held `delay` seconds, past a client's timeout) and `phantom_error` (Meta: the post is
  recorded, the answer is an error). Endpoint names: X `oauth.token`, `users.me`,
  `users.tweets`, `tweets.create`, `tweets.get`, `tweets.delete`, `media.upload`,
  `media.chunked`, `media.status`; LinkedIn `oauth.token`, `posts.create`, `posts.get`,
  `posts.find`, `posts.delete`, `images.initialize`, `videos.action`, `assets.get`; Meta
  `oauth.access_token`, `me.object`, `me.accounts`, `page.feed`, `page.photos`,
  `page.videos`, `ig.media`, `ig.media_publish`, `ig.content_publishing_limit`, `object`.
- Token events: X `state.expire(token)`, `state.revoke_user(id)`; LinkedIn
  `state.expire(token)`, `state.revoke_member(sub)`; Meta `state.invalidate_user(id, 460|458|
  459)`, `state.remove_role(user, page)`. Media processing failures: `state.fail_next_media`
  (X, LinkedIn); Meta reads media from `state.media_library` (URL -> bytes, None =
  unreachable) and otherwise fetches the URL over HTTP.

`serve.run_social_simulators()` serves all three on loopback ports; `cli.app` is a typer
`serve` command for them.
"""
