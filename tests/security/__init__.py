"""The adversarial suite: hostile tokens, headers and input each get the contract's answer."""
