"""All models, so `Base.metadata` knows every table (migrations and erasure rely on that).

Each feature keeps its models in a module of its own here; import it below.
"""

from storage.models.convening import *  # noqa: F403
from storage.models.coordinators import *  # noqa: F403
from storage.models.core import *  # noqa: F403
from storage.models.core import Base as Base
from storage.models.delivery import *  # noqa: F403
from storage.models.email import *  # noqa: F403
from storage.models.families import *  # noqa: F403
from storage.models.id_high_water import *  # noqa: F403
from storage.models.links import *  # noqa: F403
from storage.models.loop import *  # noqa: F403
from storage.models.matrix import *  # noqa: F403
from storage.models.meeting_notes import *  # noqa: F403
from storage.models.meetings_needs import *  # noqa: F403
from storage.models.privacy import *  # noqa: F403
from storage.models.sharing import *  # noqa: F403
