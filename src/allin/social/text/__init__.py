"""How each platform counts the text of a post."""
