"""Request and response schemas every layer may import (the records themselves are ``domain.models``)."""
